"""Argument types and options shared by several verbs."""

from __future__ import annotations

import argparse
import json
import sys

from consensuslab.errors import UsageError


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
    """PROTOCOL, -p KEY=VALUE, --variant, --scenario: how every verb names a model."""
    parser.add_argument("protocol", metavar="PROTOCOL", help="protocol name (see `consensuslab list`)")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                        help="set a parameter (repeatable)")
    parser.add_argument("--variant", help="a (broken) variant of the protocol")
    parser.add_argument("--scenario", help="a named scenario (parameters, network, faults)")


def build_definition(args):
    from consensuslab.models.params import parse_assignments
    from consensuslab.protocols import configure

    return configure(args.protocol, parse_assignments(args.param), args.variant, args.scenario)


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def fail(message: str):
    raise UsageError(message)
