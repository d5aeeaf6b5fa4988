"""The exceptions that cross module boundaries, and the exit codes they map to.

Exit codes follow TLC's so that scripts written for TLC keep working.
"""

EXIT_OK = 0
EXIT_REPLAY_FAILED = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_DEADLOCK = 11
EXIT_SAFETY = 12
EXIT_LIVENESS = 13


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
