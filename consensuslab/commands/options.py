"""Argument types and options shared by several verbs."""

from __future__ import annotations

import argparse
import sys


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value}")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a whole number >= 1, got 0")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text}")
    return value


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """PROTOCOL, -p KEY=VALUE, --variant, --scenario, --module: how every verb names a model."""
    parser.add_argument("protocol", metavar="PROTOCOL",
                        help="protocol name (see `consensuslab list`), or a file: path.py[:ClassName]")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                        help="set a parameter (repeatable)")
    parser.add_argument("--variant", help="a (broken) variant of the protocol")
    parser.add_argument("--scenario", help="a named scenario (parameters, network, faults)")
    add_module_option(parser)


def add_module_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--module", action="append", default=[], metavar="MODULE",
                        help="import MODULE and make its protocol classes available by name (repeatable)")


def protocol_class_for(args):
    """The class PROTOCOL names: a file, a ``--module`` protocol or a registry name."""
    from consensuslab.loader import resolve

    return resolve(args.protocol, getattr(args, "module", None))


def build_definition(args, variant=None):
    """The definition the command line asks for; ``variant`` overrides ``--variant``.

    A user's protocol (loaded from a file or module) is linted when compiled:
    its first states are explored with every framework rule checked, so its
    mistakes are one-line ModelErrors rather than tracebacks.
    """
    from consensuslab.models.params import parse_assignments

    cls = protocol_class_for(args)
    params, chosen = parse_assignments(args.param), variant or args.variant
    if not user_defined(cls):
        return cls.configure(params, chosen, args.scenario)
    definition = configure_user(cls, params, chosen, args.scenario)
    definition.compile = _linted(definition.compile)
    return definition


def configure_user(cls, params, variant, scenario):
    """``cls.configure`` with a user's exceptions turned into one-line ModelErrors."""
    from consensuslab.errors import ConsensuslabError
    from consensuslab.models.blame import setup_error

    try:
        return cls.configure(params, variant, scenario)
    except ConsensuslabError:
        raise
    except Exception as exc:
        raise setup_error(cls, exc) from None


def user_defined(cls) -> bool:
    from consensuslab.models.definition import source_of

    return source_of(cls) is not None


def _linted(compile_):
    def compile():
        from consensuslab.checkers.search.lint import lint

        model = compile_()
        for warning in lint(model):
            print(f"warning: {warning}", file=sys.stderr)
        return model

    return compile
