"""Two protocols written as a newcomer would, from the README: a Chang-Roberts ring election (an actor
protocol) and a primary-backup replication (a spec).  Each passes its scenarios, and each broken variant is
found and its trace replays."""

from pathlib import Path

import pytest

from consensuslab import ModelError, check
from consensuslab.checkers.liveness.check import confirm_lasso
from consensuslab.checkers.replay import replay_document
from consensuslab.checkers.search.lint import lint
from consensuslab.checkers.variants.expect import PASS, run_scenario, scenario_names
from consensuslab.loader import load_file
from consensuslab.traces.itf import trace_document

from clirun import cli

HERE = Path(__file__).resolve().parent
FILES = {"chang_roberts": HERE / "chang_roberts.py", "primary_backup": HERE / "primary_backup.py"}


def protocol(name):
    return load_file(str(FILES[name]))


CASES = [(name, scenario) for name in FILES for scenario in scenario_names(protocol(name))]


@pytest.mark.parametrize("name,scenario", CASES, ids=[f"{n}:{s}" for n, s in CASES])
def test_every_scenario_meets_its_expectation(name, scenario):
    outcome = run_scenario(protocol(name), scenario, 120)
    assert outcome.verdict == PASS, outcome.message


@pytest.mark.parametrize("name,variant,prop,steps", [
    ("chang_roberts", "forward-smaller", "the_largest_leads", 3),
    ("primary_backup", "commit-on-first-ack", "committed_everywhere", 4),
])
def test_the_broken_variant_is_found_and_replays(name, variant, prop, steps):
    cls = protocol(name)
    model = cls.configure(scenario=variant).compile()
    assert lint(model) == []  # nothing in the declarations is off
    r = check(model, progress=False)
    assert r.status == "violation" and r.violation.property == prop and len(r.violation.trace) == steps
    done = replay_document(trace_document(model, r.violation.trace, r.violation),
                           cls.configure(scenario=variant).compile())
    assert done.violation.property == prop


def test_the_election_needs_someone_to_start():
    cls = protocol("chang_roberts")

    class Lazy(cls):
        name = "chang-roberts-lazy"
        fairness = ()

    model = Lazy.configure(scenario="fair").compile()
    r = check(model, progress=False)
    assert r.status == "violation" and r.violation.property == "everyone_learns"
    confirm_lasso(Lazy.configure(scenario="fair").compile(), r.violation.trace, "everyone_learns")


def test_the_command_line_runs_them(tmp_path):
    trace = tmp_path / "pb.itf.json"
    found = cli("check", FILES["primary_backup"], "--variant", "commit-on-first-ack", "--trace-out", trace, "--quiet")
    assert found.returncode == 12 and "committed_everywhere" in found.stdout
    assert cli("replay", trace, "--quiet").returncode == 12
    ring = cli("check", FILES["chang_roberts"], "-p", "ids=5,2,7")
    assert ring.returncode == 0 and ring.stderr == ""
    same = cli("check", FILES["chang_roberts"], "-p", "ids=5,5")
    assert same.returncode == 2 and same.stderr.strip() == "error: parameter ids=5,5: ids must be distinct"


def test_messages_declared_as_plain_named_tuples_are_refused_in_one_line(tmp_path):
    """What the newcomer met: undecorated NamedTuple messages, Ack(1, "v1") == Replicate(1, "v1")."""
    text = FILES["primary_backup"].read_text().replace("@record\nclass Replicate", "class Replicate")
    plain = tmp_path / "plain_pb.py"
    plain.write_text(text)
    cls = load_file(str(plain))
    with pytest.raises(ModelError) as err:
        lint(cls().compile())
    assert str(err.value).startswith("primary-backup: Replicate (in the state, after SendReplicate) is a plain "
                                     "NamedTuple")
    proc = cli("check", plain)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "declare it with @record" in proc.stderr
