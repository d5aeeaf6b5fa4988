"""Every exit code and every bad-input case, through the real command line."""

import json

import pytest

from clirun import cli, cli_json
from paths import ROOT


def test_ok_exit_0_with_json_fields():
    proc, out = cli_json("check", "two-phase", "-p", "rm=3")
    assert proc.returncode == 0
    assert out["status"] == "ok"
    assert out["distinct_states"] == 288
    assert out["protocol"] == "two-phase" and out["params"] == {"rm": 3} and out["variant"] is None
    for key in ("states_generated", "depth", "seconds", "violation"):
        assert key in out
    assert out["violation"] is None


def test_violation_exit_12_writes_a_trace_that_replays(tmp_path):
    trace = tmp_path / "cex.itf.json"
    proc, out = cli_json("check", "hash-chain", "--variant", "unlinked", "--trace-out", trace)
    assert proc.returncode == 12
    assert out["status"] == "violation"
    v = out["violation"]
    assert v["property"] == "tamper_detected" and v["kind"] == "invariant"
    assert v["trace_file"] == str(trace)
    doc = json.loads(trace.read_text())
    assert doc["#meta"]["protocol"] == "hash-chain" and doc["#meta"]["variant"] == "unlinked"
    assert len(doc["states"]) == v["trace_length"] + 1
    assert doc["states"][1]["#meta"]["action"]["name"] == "Append"
    replay = cli("replay", trace)
    assert replay.returncode == 12, replay.stdout + replay.stderr
    assert "reproduced" in replay.stdout


def test_deadlock_exit_11():
    proc, out = cli_json("check", "two-phase-actors", "--scenario", "coordinator-crash")
    assert proc.returncode == 11 and out["status"] == "deadlock"
    assert cli("check", "two-phase-actors", "--scenario", "coordinator-crash", "--no-deadlock").returncode == 0


def test_limit_gives_incomplete_exit_3():
    proc, out = cli_json("check", "two-phase", "-p", "rm=5", "--max-states", "100")
    assert proc.returncode == 3
    assert out["status"] == "incomplete" and out["stopped_by"] == "max-states"


def test_same_command_same_trace(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    cli("check", "two-phase", "--variant", "no-wait", "--trace-out", a)
    cli("check", "two-phase", "--variant", "no-wait", "--trace-out", b)
    assert a.read_text() == b.read_text()


def test_list_json_names_everything():
    proc, out = cli_json("list")
    assert proc.returncode == 0
    by_name = {p["name"]: p for p in out["protocols"]}
    tp = by_name["two-phase"]
    assert tp["params"]["rm"]["default"] == 3
    assert "no-wait" in tp["variants"]
    assert {p["name"] for p in tp["properties"]} >= {"TPTypeOK", "TCConsistent"}
    assert any(s["name"] == "default" and s["states"] == 288 for s in tp["scenarios"])
    assert "hash-chain" in by_name


def test_python_dash_m_and_help():
    proc = cli("--help")
    assert proc.returncode == 0 and "check" in proc.stdout


BAD = [
    (["check", "nosuch"], "unknown protocol 'nosuch'"),
    (["check", "two-phase", "--variant", "nosuch"], "unknown variant 'nosuch'"),
    (["check", "two-phase", "--scenario", "nosuch"], "unknown scenario 'nosuch'"),
    (["check", "two-phase", "-p", "nosuch=1"], "unknown parameter 'nosuch'"),
    (["check", "two-phase", "-p", "rm=three"], "expected an integer"),
    (["check", "two-phase", "-p", "rm=0"], "out of range"),
    (["check", "two-phase", "-p", "rm"], "expected KEY=VALUE"),
    (["check", "two-phase", "--max-states", "-5"], "--max-states"),
    (["check", "two-phase", "--search", "sideways"], "invalid choice"),
    (["replay", "/nonexistent/trace.json"], "does not exist"),
    (["nosuchverb"], "invalid choice"),
]


@pytest.mark.parametrize("args,needle", BAD)
def test_bad_input_is_one_line_exit_2(args, needle):
    proc = cli(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]
    assert "Traceback" not in proc.stderr
    if "unknown protocol" in needle:
        assert "two-phase" in lines[0]  # names what is valid


@pytest.mark.parametrize("content,needle", [
    ("{not json", "is not JSON"),
    ('{"states": []}', "non-empty 'states'"),
    ('{"states": [{"#meta": {}}]}', "#meta.protocol"),
    ('[1, 2]', "non-empty 'states'"),
])
def test_malformed_trace_files_exit_2(tmp_path, content, needle):
    path = tmp_path / "bad.json"
    path.write_text(content)
    proc = cli("replay", path)
    assert proc.returncode == 2
    assert needle in proc.stderr and "Traceback" not in proc.stderr


def _saved(tmp_path):
    path = tmp_path / "t.json"
    cli("check", "two-phase", "--variant", "no-wait", "--trace-out", path)
    return path, json.loads(path.read_text())


def test_replay_of_unknown_protocol_trace_exit_2(tmp_path):
    path, doc = _saved(tmp_path)
    doc["#meta"]["protocol"] = "nosuch"
    path.write_text(json.dumps(doc))
    proc = cli("replay", path)
    assert proc.returncode == 2 and "unknown protocol" in proc.stderr


def test_replay_fails_with_1_naming_the_step_when_an_action_is_not_enabled(tmp_path):
    path, doc = _saved(tmp_path)
    doc["states"][3]["#meta"]["action"]["args"] = ["r9"]
    path.write_text(json.dumps(doc))
    proc = cli("replay", path)
    assert proc.returncode == 1
    assert "step 3" in proc.stdout


def test_replay_fails_with_1_when_the_property_holds_at_the_end(tmp_path):
    path, doc = _saved(tmp_path)
    doc["states"] = doc["states"][:-1]
    path.write_text(json.dumps(doc))
    proc = cli("replay", path)
    assert proc.returncode == 1
    assert "holds at the end" in proc.stdout


def test_replay_fails_with_1_when_a_recorded_state_differs(tmp_path):
    path, doc = _saved(tmp_path)
    doc["states"][2]["tmState"] = "aborted"
    path.write_text(json.dumps(doc))
    proc = cli("replay", path)
    assert proc.returncode == 1 and "step 2" in proc.stdout and "tmState" in proc.stdout


def test_a_trace_of_another_protocol_is_bad_input():
    proc = cli("explore", "two-phase", "--trace", "tests/traces/hash-chain-unlinked.itf.json",
               cwd=ROOT)
    assert proc.returncode == 2
    assert "the trace is of hash-chain, not two-phase" in proc.stderr and "Traceback" not in proc.stderr


PINNED = '''
from typing import NamedTuple
from consensuslab import Scenario, Spec, action, always, record

@record
class C(NamedTuple):
    n: int

class Counter(Spec):
    name = "counter"
    check_deadlock = False
    scenarios = (Scenario("right", "five states", {}, states=5), Scenario("wrong", "a stale pin", {}, states=6))

    def init(self):
        yield C(0)

    @action
    def Inc(self, s):
        if s.n < 4:
            return C(s.n + 1)

    @always
    def small(self, s):
        return s.n < 5
'''


def test_a_scenario_whose_pinned_count_differs_is_warned_about(tmp_path):
    """``Scenario(states=N)`` is checked by ``check-all``; a plain ``check --scenario`` says so too (exit 0)."""
    path = tmp_path / "counter.py"
    path.write_text(PINNED)
    proc, result = cli_json("check", path, "--scenario", "wrong")
    assert proc.returncode == 0 and result["distinct_states"] == 5
    assert result["warnings"] == ["scenario wrong pins 6 distinct states (Scenario(states=...)); this run found 5"]
    assert "warning: scenario wrong pins 6 distinct states" in cli("check", path, "--scenario", "wrong").stdout
    proc, result = cli_json("check", path, "--scenario", "right")
    assert proc.returncode == 0 and not result.get("warnings")
    proc, result = cli_json("check", path, "--scenario", "wrong", "--max-depth", "2")
    assert not result.get("warnings")  # a bounded run does not count what the pin counts


@pytest.mark.parametrize("argv", [
    ["check", "paxos", "-p", "ballots=2", "--engine", "compiled", "--json"],
    ["--debug", "check-all", "--protocol", "two-phase", "-j", "2"],
    ["export-log", "two-phase", "--out", "logs"],
    ["list"],
])
def test_a_command_is_parsed_by_its_own_parser_as_by_the_whole(argv):
    """``main`` registers only the command its arguments name; the parse is the whole parser's."""
    from consensuslab.cli import COMMANDS, build_parser

    alone = build_parser(argv)
    assert len(alone._subparsers._group_actions[0].choices) == 1
    assert len(build_parser()._subparsers._group_actions[0].choices) == len(COMMANDS)
    assert vars(alone.parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_a_word_that_names_no_command_is_refused_with_every_command_listed(capsys):
    from consensuslab.cli import main

    code = main(["chek", "paxos"])
    assert code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'chek'" in err and "'check-all'" in err and "'export-log'" in err
