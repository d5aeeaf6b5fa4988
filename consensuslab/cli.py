"""The ``consensuslab`` command: parse, dispatch to a command module, map errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys

from consensuslab.errors import EXIT_USAGE, ConsensuslabError, UsageError

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
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str):  # noqa: D401 - argparse hook
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="consensuslab", description="Model-check distributed protocols.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"consensuslab.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return int(args.handler(args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConsensuslabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:  # outside a search (which returns its partial result itself)
        print("interrupted", file=sys.stderr)
        return 130


def entry() -> None:
    from consensuslab.checkers.compiled.allocator import keep_freed_memory

    keep_freed_memory()  # the tool owns its process: freed arrays stay in it (see checkers/compiled/allocator.py)
    sys.exit(main())


if __name__ == "__main__":
    entry()
