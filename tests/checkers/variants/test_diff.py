"""``consensuslab diff``: projected behaviours one variant admits and the other does not, with witnesses."""

import json

from consensuslab.checkers.variants.differential import diff
from consensuslab.cli import main
from consensuslab.protocols import protocol_class


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_no_wait_reaches_a_split_decision_the_real_protocol_never_does():
    cls = protocol_class("two-phase")
    result = diff(cls({"rm": 2}).compile(), cls({"rm": 2}, "no-wait").compile())
    assert result.status == "different" and result.view == "default"
    assert result.only_a == []
    assert [d.value for d in result.only_b] == [frozenset({"committed", "aborted"})]
    witness = result.only_b[0].trace
    last = witness.states[-1]
    assert "committed" in last.rmState and "aborted" in last.rmState
    assert [a.name for a in witness.actions][-2:] == ["TMCommit", "RMRcvCommitMsg"]
    # the witness is a shortest one: no state with both decisions is closer to the start
    assert len(witness) == 5


def test_cli_exit_codes_json_and_witness_files(tmp_path, capsys):
    code, out, _ = cli(capsys, "diff", "two-phase", "--variant", "none", "--variant", "no-wait", "--json",
                       "--trace-out-prefix", tmp_path / "w-")
    assert code == 12
    doc = json.loads(out)
    assert doc["only"] == {"none": [], "no-wait": [{"value": "{aborted, committed}", "steps": 5,
                                                    "trace_file": str(tmp_path / "w-no-wait-1.itf.json")}]}
    itf = json.loads((tmp_path / "w-no-wait-1.itf.json").read_text())
    assert itf["#meta"]["variant"] == "no-wait" and itf["#meta"]["diff"]["unreachable_in"] == "none"
    assert len(itf["states"]) == 6
    code, out, _ = cli(capsys, "diff", "hash-chain", "--variant", "default", "--variant", "unlinked")
    assert code == 12 and "only with unlinked (2)" in out and "default = {forged}" in out


def test_identical_variants_exit_0_and_bad_views_exit_2(capsys):
    # with one RM the TM's "any Prepared" and "every Prepared" are the same rule
    code, out, _ = cli(capsys, "diff", "two-phase", "-p", "rm=1", "--variant", "none", "--variant", "no-wait")
    assert code == 0 and "IDENTICAL" in out
    code, _, err = cli(capsys, "diff", "two-phase", "--variant", "none", "--variant", "no-wait", "--view", "nope")
    assert code == 2 and "no view 'nope'; valid: default, state" in err
    code, _, err = cli(capsys, "diff", "two-phase", "--variant", "no-wait")
    assert code == 2 and "exactly two --variant" in err


def test_scenario_variant_is_overridden_by_none(capsys):
    # the no-wait scenario names the no-wait variant; `--variant none` must still mean the real protocol
    code, out, _ = cli(capsys, "diff", "two-phase", "--scenario", "no-wait", "--variant", "none",
                       "--variant", "no-wait", "--json")
    doc = json.loads(out)
    assert code == 12 and doc["only"]["none"] == [] and len(doc["only"]["no-wait"]) == 1


def test_actor_protocol_view_and_whole_state_view(capsys):
    code, out, _ = cli(capsys, "diff", "two-phase-actors", "-p", "rm=2", "--variant", "none",
                       "--variant", "none", "--view", "state")
    assert code == 2  # the same variant twice is refused
    code, out, _ = cli(capsys, "diff", "hash-chain", "--variant", "none", "--variant", "unlinked", "--view",
                       "state", "--max-states", "50", "--json")
    assert code == 3 and json.loads(out)["status"] == "incomplete"
