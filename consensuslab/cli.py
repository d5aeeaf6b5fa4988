"""The ``consensuslab`` command: parse, dispatch to a command module, map errors to exit codes.

Every way a command can end is decided here, once (README "Exit codes"):

* a result: the command's own code (0, 11, 12, 13, 3; 1 for ``replay``/``check-all``);
* bad usage or input, a user's protocol breaking a rule or escaping (``sys.exit()``
  in a handler), a file that cannot be written: one line, 2;
* out of memory or past a limit outside any search: one line, 3;
* Ctrl-C or SIGTERM: the partial result the command printed, then 128 + the
  signal (130, 143), never 0, even where a library swallowed the interrupt;
* anything else is our bug: one line and 70 (``--debug`` or
  ``CONSENSUSLAB_DEBUG=1`` for the traceback).

The process's data memory is capped at ``--memory-limit`` (default: a share
of the available memory) before the command runs, so that a run out of
memory stops with a result instead of being killed (``checkers/search/limits.py``).
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import sys
import threading
import time
import traceback

from consensuslab.errors import (
    EXIT_INCOMPLETE,
    EXIT_INTERNAL,
    EXIT_USAGE,
    ConsensuslabError,
    UsageError,
)

COMMANDS = (
    "list_",
    "check",
    "replay",
    "quorum",
    "linearizable",
    "simulate",
    "nakamoto",
    "trace",
    "explore",
    "serve",
    "new",
    "diff",
    "mutate",
    "check_all",
    "validate",
    "export_log",
    "conform",
    "pysyncobj",
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str):  # noqa: D401 - argparse hook
        raise UsageError(f"{self.prog}: {message}")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with ``argv`` that names one, of that command alone (the same parse)."""
    parser = _Parser(prog="consensuslab", description="Model-check distributed protocols.")
    parser.add_argument("--debug", action="store_true",
                        help="print the traceback of an internal error (also CONSENSUSLAB_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _named(argv):
        importlib.import_module(f"consensuslab.commands.{name}").register(sub)
    return parser


def _named(argv: list[str] | None) -> tuple[str, ...]:
    """The command module ``argv`` names (its first word: the top level's only option is a flag), or every one,
    for ``--help`` and for an error that lists them.  Why: registering every command imports what each one's
    options need, 50 ms, a tenth of a small check."""
    words = [a for a in argv or () if not a.startswith("-")]
    if words:
        for name in COMMANDS:
            if name.rstrip("_").replace("_", "-") == words[0]:
                return (name,)
    return COMMANDS


def main(argv: list[str] | None = None) -> int:
    from consensuslab.checkers.search.limits import first_signal, interrupts_recorded, signals_received

    from consensuslab.checkers.search.limits import apply_memory_limit, restore_memory_limit

    before = signals_received()
    args = None
    memory = apply_memory_limit(None)  # the caps before this command (restored: main may run in a test)
    with interrupts_recorded():
        try:
            parser = build_parser(sys.argv[1:] if argv is None else argv)
            args = parser.parse_args(argv)
            code = _run(parser, args)
        except BaseException as exc:  # noqa: BLE001 - every ending is mapped here, once
            code = _ended(exc, args)
        finally:
            restore_memory_limit(memory)
    for line in getattr(args, "write_failures", ()):
        print(f"error: {line}", file=sys.stderr)
        code = EXIT_USAGE
    if signals_received() > before:  # an interrupted run never reports success
        code = 128 + first_signal()
    return code


def _run(parser, args) -> int:
    from consensuslab.checkers.search.limits import apply_memory_limit, cap_for_megabytes

    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    limit = getattr(args, "memory_limit", None)
    apply_memory_limit(cap_for_megabytes(limit))
    args.started = time.monotonic()  # --time-limit counts from here (options.time_left)
    return int(args.handler(args))


def _ended(exc: BaseException, args) -> int:
    """The exit code (and the one line) for a command that ended by an exception."""
    from consensuslab.checkers.search.limits import LimitReached, limit_behind, megabytes, process_memory_limits
    from consensuslab.models.blame import escape_error

    if isinstance(exc, SystemExit):
        blamed = escape_error(exc)
        if blamed is None:  # argparse's --help, or our own exit
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
        exc = blamed
    if isinstance(exc, ConsensuslabError):
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, LimitReached):
        print(f"unknown: the {exc.limit} was reached before a result", file=sys.stderr)
        return EXIT_INCOMPLETE
    if isinstance(exc, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        return 130
    if isinstance(exc, MemoryError):
        cap = megabytes(process_memory_limits()[0])
        print(f"unknown: out of memory (data memory capped at {cap}); give more with --memory-limit MB",
              file=sys.stderr)
        return EXIT_INCOMPLETE
    if isinstance(exc, BrokenPipeError):
        return 0
    reached = limit_behind(exc)  # a watchdog's limit, wrapped by a C extension it fired inside
    if reached is not None:
        print(f"unknown: the {reached} was reached before a result", file=sys.stderr)
        return EXIT_INCOMPLETE
    blamed = escape_error(exc)
    if blamed is not None:
        print(f"error: {blamed}", file=sys.stderr)
        return EXIT_USAGE
    where = traceback.extract_tb(exc.__traceback__)[-1:]
    at = f" at {os.path.basename(where[0].filename)}:{where[0].lineno}" if where else ""
    print(f"internal error: {type(exc).__name__}: {exc}{at} (a bug in consensuslab; rerun with --debug "
          f"or CONSENSUSLAB_DEBUG=1 for the traceback)", file=sys.stderr)
    if _debug(args):
        traceback.print_exception(exc, file=sys.stderr)
    return EXIT_INTERNAL


def _debug(args) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get("CONSENSUSLAB_DEBUG", "") not in ("", "0")


def entry() -> None:
    from consensuslab.checkers.compiled.allocator import keep_freed_memory

    keep_freed_memory()  # the tool owns its process: freed arrays stay in it (see checkers/compiled/allocator.py)
    _leave(main())


def _leave(code: int) -> None:
    """Exit without the interpreter freeing, one by one, every object the run made: the states a big search
    holds took seconds to free, after the answer was printed (EWD998, 321,370 states, interpreted: 59.4 s
    before, 52 to 55 s after; 0.5 s of 3.8 s with 20,870 states).  Exit handlers run first (temporary directories, child
    processes) and the output streams are flushed; with another thread still running, the usual exit waits
    for it."""
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be said on it
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
