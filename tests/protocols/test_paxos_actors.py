"""Paxos as proposer, acceptor and learner actors: scenarios pinned, variants caught and replayed."""

from __future__ import annotations

import json

import pytest

from consensuslab import check
from consensuslab.checkers.liveness.check import check_liveness, confirm_lasso
from consensuslab.checkers.reduction.renaming import confirm_lifted, exactness_counterexample
from consensuslab.errors import ReplayError
from consensuslab.models import renaming
from consensuslab.models.effects import broadcast
from consensuslab.models.protocol import local
from consensuslab.models.records import evolve
from consensuslab.models.renaming import least_renaming
from consensuslab.protocols import protocol_class
from consensuslab.protocols.paxos_actors import ACCEPTOR, PROPOSER, PaxosActors, Prepare
from consensuslab.traces.result import Trace

from clirun import cli, cli_json
from replaying import replay_states

SMALL = ("default", "lossy", "crash", "stable-leader")


def run(scenario=None, params=None, variant=None, **kw):
    return check(PaxosActors.configure(params, variant, scenario).model(), progress=False, **kw)


def replay(result):
    meta = result.model_meta
    model = PaxosActors.configure(meta["params"], meta["variant"], meta["scenario"]).model()
    trace = result.violation.trace
    replay_states(model, trace)
    return model, trace


def test_registered():
    assert protocol_class("paxos-actors") is PaxosActors


@pytest.mark.parametrize("name", SMALL)
def test_small_scenarios_exhaustively(name):
    scenario = PaxosActors.scenario_named(name)
    r = run(name)
    assert r.status == "ok"
    assert r.distinct_states == scenario.states
    live = {name: "holds" for name in scenario.properties or () if name == "eventually_chosen"}
    assert r.properties == {"agreement": "holds", "validity": "holds", "decision_stable": "holds",
                            "some_decision": "witnessed", **live}




def test_minority_quorum_caught():
    r = run("minority-quorum")
    assert r.status == "violation" and r.violation.property == "decision_stable"
    assert len(r.violation.trace) == 10
    model, trace = replay(r)
    before, after = model.view(trace.states[-2]), model.view(trace.states[-1])
    decisions = (before.states("learner")[0].decision, after.states("learner")[0].decision)
    assert decisions == ("v1", "v2")


def test_minority_quorum_breaks_agreement_between_learners():
    r = run(params={"learners": 2}, variant="minority-quorum", search="dfs")
    assert r.status == "violation" and r.violation.property in ("agreement", "decision_stable")
    replay(r)


def test_no_promise_check_caught():
    # BFS finds the 18-step counterexample but visits ~180,000 states; DFS is quicker.
    r = run("no-promise-check", search="dfs")
    assert r.status == "violation" and r.violation.property == "decision_stable"
    replay(r)


def test_quorum_system():
    assert PaxosActors({}).quorum_system() == {"kind": "majority", "n": 3, "q": 2}
    assert PaxosActors({}, "minority-quorum").quorum_system()["q"] == 1
    assert PaxosActors({"acceptors": 4, "quorum": 2}).quorum_system() == {"kind": "threshold", "n": 4, "q": 2}


def test_ballots_are_owned_round_robin():
    p = PaxosActors({"proposers": 2, "max_ballot": 4})
    assert p.owned == {"p1": (0, 2, 4), "p2": (1, 3)}


# -- unbounded ballots: dueling proposers -----------------------------------------------
def test_least_renaming_keeps_order_and_owners_and_closes_gaps():
    assert least_renaming({3, 8, 9}, 2) == {3: 1, 8: 2, 9: 3}
    assert least_renaming({0, 5}, 2) == {0: 0, 5: 1}
    assert least_renaming({7, 12, 40}, 3) == {7: 1, 12: 3, 40: 4}
    assert least_renaming((), 2) == {}
    f = least_renaming({4, 6, 11, 13, 20}, 2)
    assert list(f.values()) == sorted(f.values()) and all(k % 2 == v % 2 for k, v in f.items())
    assert least_renaming(f.values(), 2) == {v: v for v in f.values()}  # a canonical set is its own image


def test_dueling_proposers_lasso_exit_13_and_replays(tmp_path):
    trace = tmp_path / "duel.itf.json"
    proc, out = cli_json("check", "paxos-actors", "--scenario", "dueling-proposers", "--trace-out", trace)
    assert proc.returncode == 13, proc.stdout + proc.stderr
    assert out["violation"]["kind"] == "liveness" and out["violation"]["property"] == "eventually_chosen"
    assert out["distinct_states"] == PaxosActors.scenario_named("dueling-proposers").states
    assert {k: v for k, v in out["properties"].items() if k != "eventually_chosen"} == {
        "agreement": "holds", "validity": "holds", "decision_stable": "holds", "some_decision": "witnessed"}
    lasso = out["lasso"]
    assert lasso["cycle"] > 0  # a real cycle, not a dead end
    doc = json.loads(trace.read_text())
    assert doc["loop"] == lasso["prefix"] and len(doc["states"]) == lasso["prefix"] + lasso["cycle"] + 1
    variables = [{k: v for k, v in st.items() if k != "#meta"} for st in doc["states"]]
    assert variables[-1] == variables[doc["loop"]]
    learner = [dict(st["nodes"]["#map"])["l1"]["value"] for st in doc["states"]]
    assert all(s["decision"] == {"tag": "None", "value": {"#tup": []}} for s in learner)  # nothing is ever chosen
    assert cli("replay", trace).returncode == 13
    doc["loop"] += 1  # the cycle no longer closes
    bad = tmp_path / "tampered.itf.json"
    bad.write_text(json.dumps(doc))
    replay = cli("replay", bad)
    assert replay.returncode == 1 and "loop start" in replay.stdout, replay.stdout


def test_stable_leader_exit_0():
    proc, out = cli_json("check", "paxos-actors", "--scenario", "stable-leader")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out["properties"]["eventually_chosen"] == "holds" and out["distinct_states"] == 210


def duel(acceptors=1):
    """The dueling scenario with one acceptor: the same protocol, 361 states."""
    return PaxosActors.configure({"acceptors": acceptors}, scenario="dueling-proposers").model()


def reachable(model, limit=None) -> list:
    """The reachable states breadth-first (the first ``limit`` or so of them)."""
    seen, frontier = set(model.initial_states()), list(model.initial_states())
    while frontier and (limit is None or len(seen) < limit):
        nxt = []
        for s in frontier:
            for _, t in model.successors(s):
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
    return sorted(seen, key=repr)


def test_renaming_and_forgetting_are_exact():
    model = duel()
    states = reachable(model)
    assert len(states) == 361
    assert exactness_counterexample(model, states) is None


def _residue_first(values, modulus):  # keeps each ballot's owner, not the order between owners
    out, last = {}, -1
    for v in sorted(set(values), key=lambda v: (v % modulus, v)):
        last += 1 + (v % modulus - last - 1) % modulus
        out[v] = last
    return out


def _rank(values, modulus):  # keeps the order, not the owners
    return {v: i for i, v in enumerate(sorted(set(values)))}


@pytest.mark.parametrize("broken", [_residue_first, _rank])
def test_a_broken_renaming_is_caught(monkeypatch, broken):
    monkeypatch.setattr(renaming, "least_renaming", broken)
    model = duel()
    assert exactness_counterexample(model, reachable(model)) is not None
    monkeypatch.setattr("consensuslab.checkers.reduction.renaming._not_a_renaming", lambda f, m: None)
    assert "differ" in exactness_counterexample(model, reachable(model))  # caught by behaviour alone


def test_arithmetic_on_ballots_is_caught():
    class NextBallot(PaxosActors):  # "my ballot + proposers": depends on the gaps the renaming closes
        @local(PROPOSER)
        def proposer_prepare(self, s, ctx):
            nxt = s.bal + self.proposers if s.bal >= 0 else self.owner_index[ctx.me]
            return (evolve(s, bal=nxt, phase="prepare", promised_by=frozenset(), best=(-1, None), proposed=None),
                    broadcast(ctx.nodes(ACCEPTOR), Prepare(nxt)))

    model = NextBallot.configure({"acceptors": 1}, scenario="dueling-proposers").model()
    assert "different normal forms" in exactness_counterexample(model, reachable(model))


def test_forgetting_live_votes_is_caught(monkeypatch):
    model = duel(acceptors=2)  # with one acceptor a quorum is one vote, and votes never matter
    assert exactness_counterexample(model, reachable(model, limit=300)) is None

    def forget_all(w):  # also the votes of ballots that may still complete a quorum
        return renaming.with_locals(w.model, w.raw, {n: evolve(s, votes=frozenset()) for n, s in w.items("learner")})

    broken = duel(acceptors=2)
    monkeypatch.setattr(broken.normalise, "forget", forget_all)
    assert "reduced form" in exactness_counterexample(broken, reachable(broken, limit=300))


def test_the_lasso_is_fair_in_real_growing_ballots():
    model = duel()
    r = check_liveness(model)
    t = r.violation.trace
    assert r.violation.property == "eventually_chosen" and len(t) > t.loop
    confirm_lasso(model, t, "eventually_chosen")
    real = confirm_lifted(model, t, laps=4)
    bals = [(s.locals[0].bal, s.locals[1].bal) for s in real.states]
    for k in (0, 1):  # each proposer's ballot only grows, and it grows in every lap
        mine = [b[k] for b in bals]
        assert mine == sorted(mine) and mine[-1] > mine[t.loop] + 2 * 3
    assert real.states[-1] != real.states[t.loop]  # in real ballots the cycle never repeats a state...
    assert model.normalise.canonical(model, real.states[-1])[0] == t.states[t.loop]  # ...but renamed it does


def test_a_lasso_starving_a_proposer_is_not_fair_in_real_ballots():
    model = duel()
    state = model.initial_states()[0]
    seen, trace = {state: 0}, Trace(state)
    while True:  # p2 never starts a ballot: a cycle in which p1 keeps re-running its own
        act, state = next((a, s) for a, s in model.successors(state) if a.node != "p2")
        trace.steps.append((act, state))
        if state in seen:
            trace.loop = seen[state]
            break
        seen[state] = len(trace)
    with pytest.raises(ReplayError, match="proposer_prepare steps of p2.*not a fair behaviour"):
        confirm_lifted(model, trace)
