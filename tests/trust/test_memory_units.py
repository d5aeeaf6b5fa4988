"""One unit and one reading of a memory limit for every verb, ``check-all`` and the pytest plugin.

``--memory-limit MB`` is megabytes everywhere, read by ``limits.megabytes_value``: a verb that
parsed its own (bytes in one place, a float without bounds in another) would cap the run at a
different size than the user asked for, or accept a limit of 0.
"""

import argparse
import re

import pytest

from consensuslab.checkers.search import limits
from consensuslab.cli import build_parser
from consensuslab.commands.options import megabytes
from consensuslab.testing import pytest_scenarios


def memory_options(parser, path=()):
    """(verb path, action) of every ``--memory-limit`` in the command line."""
    for action in parser._actions:  # argparse keeps no public list of a parser's options
        if "--memory-limit" in action.option_strings:
            yield " ".join(path), action
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from memory_options(sub, (*path, name))


def test_every_verb_reads_megabytes_with_the_one_function():
    found = dict(memory_options(build_parser()))
    for verb in ("check", "simulate", "linearizable", "check-all", "trace minimize", "diff", "mutate",
                 "quorum check", "quorum block", "nakamoto race"):
        assert verb in found, f"{verb} has no --memory-limit"
    assert {action.type for action in found.values()} == {megabytes}


@pytest.mark.parametrize("text", ["-5", "abc", "0.5", str(2 ** 31), "nan"])
def test_a_bad_limit_is_refused_alike_by_the_verbs_and_the_pytest_plugin(text):
    with pytest.raises(ValueError) as want:
        limits.megabytes_value(text)
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(str(want.value))):
        megabytes(text)
    with pytest.raises(pytest.UsageError, match=re.escape(str(want.value))):
        pytest_scenarios.megabytes_option(text)


def test_the_cap_is_that_many_megabytes_on_top_of_the_program():
    assert megabytes("300") == pytest_scenarios.megabytes_option("300") == 300.0
    assert limits.cap_for_megabytes(300) - limits.cap_for_megabytes(100) == 200 * 1024 * 1024
    assert limits.cap_for_megabytes(100) >= limits.PROGRAM + 100 * 1024 * 1024
    assert megabytes("0") == 0 and limits.cap_for_megabytes(0) is None  # 0: no limit, for every verb alike
