"""A crash is not a verdict: an internal error has its own exit code, 70, and one line (item 2).

Exit 1 is what ``replay`` and ``check-all`` use for real answers, so a script
must be able to tell a bug in consensuslab from them; the traceback is there
with ``--debug`` or ``CONSENSUSLAB_DEBUG=1``.
"""

import pytest

from consensuslab.cli import main

EXIT_INTERNAL = 70


@pytest.fixture
def broken_list(monkeypatch):
    """``consensuslab list`` with a bug in it."""
    import consensuslab.commands.list_ as list_

    def run(args):
        return {}["no such key"]

    monkeypatch.setattr(list_, "run", run)


def test_an_internal_error_exits_70_in_one_line(broken_list, capsys):
    code = main(["list"])
    err = capsys.readouterr().err
    assert code == EXIT_INTERNAL
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("internal error: KeyError: 'no such key' at test_exit_codes.py:")
    assert "--debug" in lines[0] and "CONSENSUSLAB_DEBUG=1" in lines[0]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_the_traceback_is_there_when_asked_for(broken_list, capsys, monkeypatch, how):
    if how == "env":
        monkeypatch.setenv("CONSENSUSLAB_DEBUG", "1")
    code = main(["--debug", "list"] if how == "flag" else ["list"])
    err = capsys.readouterr().err
    assert code == 70 and "Traceback (most recent call last)" in err and "KeyError" in err


def test_help_still_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "COMMAND" in capsys.readouterr().out


def test_out_of_memory_outside_a_search_is_unknown_in_one_line(monkeypatch, capsys):
    import consensuslab.commands.list_ as list_

    def run(args):
        raise MemoryError

    monkeypatch.setattr(list_, "run", run)
    assert main(["list"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("unknown: out of memory") and "--memory-limit" in err[0]


def test_main_restores_the_memory_cap_it_applied():
    from consensuslab.checkers.search.limits import process_memory_limits

    before = process_memory_limits()
    assert main(["list"]) == 0
    assert process_memory_limits() == before
