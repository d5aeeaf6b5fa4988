"""The exceptions that cross module boundaries, and the exit codes they map to.

Exit codes follow TLC's so that scripts written for TLC keep working; the
ones TLC has no use for follow the shell's conventions: 70 (``EX_SOFTWARE``)
for an internal error, 128 + the signal's number for an interrupted run
(130 Ctrl-C, 143 SIGTERM).  README "Exit codes" lists them all.
"""

EXIT_OK = 0
EXIT_REPLAY_FAILED = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_DEADLOCK = 11
EXIT_SAFETY = 12
EXIT_LIVENESS = 13
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130  # 128 + SIGINT; SIGTERM gives 143


class ConsensuslabError(Exception):
    """Base of every error this package raises on purpose."""


class UsageError(ConsensuslabError):
    """A user's mistake: bad name, bad value, malformed file. One line, exit 2."""


class ModelError(ConsensuslabError):
    """A protocol breaks a framework rule; the message names protocol, role and method."""


class ReplayError(ConsensuslabError):
    """A trace does not re-execute against its model; the message names the step."""

    def __init__(self, message: str, step: int | None = None):
        super().__init__(message)
        self.step = step
