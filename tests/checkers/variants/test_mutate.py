"""``consensuslab mutate``: standard weakenings must be caught; survivors are reported with exit 12."""

import json
import textwrap

from consensuslab.cli import main

VOTERS = '''
from consensuslab import (CrashRecover, Protocol, Scenario, always, durable, evolve, handles, initial, just,
                          local, message, send, sometimes, state)

@message
class Ask:
    pass

@message
class Vote:
    pass

@state
class Cand:
    asked: bool = False
    votes: frozenset = frozenset()

@state
class Voter:
    voted: bool = durable(False)

class Elect(Protocol):
    name = "elect"
    scenarios = (Scenario("crashes", "voters may crash and recover", {},
                          faults=(CrashRecover(1, roles=("voter",)),), deadlock=False),)
    def topology(self):
        return {"cand": ("c1", "c2"), "voter": ("v1", "v2", "v3")}
    @initial("cand")
    def cand_init(self, ctx):
        return Cand()
    @initial("voter")
    def voter_init(self, ctx):
        return Voter()
    @local("cand")
    def cand_ask(self, s, ctx):
        if not s.asked:
            return evolve(s, asked=True), tuple(send(v, Ask())[0] for v in ctx.nodes("voter"))
    @handles("voter", Ask)
    def voter_on_ask(self, s, m, ctx):
        if not s.voted:
            return evolve(s, voted=True), send(ctx.src, Vote())
    @handles("cand", Vote)
    def cand_on_vote(self, s, m, ctx):
        if ctx.src not in s.votes:
            return just(evolve(s, votes=s.votes | {ctx.src}))
    @always
    def one_leader(self, w):
        return sum(len(s.votes) >= 2 for s in w.states("cand")) <= 1
    @sometimes
    def elected(self, w):
        return any(len(s.votes) >= 2 for s in w.states("cand"))
'''


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def mutants(out):
    return {m["name"]: m for m in json.loads(out)["mutants"]}


def test_generic_actor_mutants_are_killed(tmp_path, capsys):
    path = tmp_path / "elect.py"
    path.write_text(textwrap.dedent(VOTERS))
    code, out, _ = cli(capsys, "mutate", path, "--json")
    assert code == 0, out
    found = mutants(out)
    assert set(found) == {"senders-as-count", "volatile-durable"}
    assert found["volatile-durable"]["verdict"] == "killed" and "one_leader" in found["volatile-durable"]["message"]
    assert found["senders-as-count"]["verdict"] == "killed"


def test_weak_property_lets_mutants_survive(tmp_path, capsys):
    path = tmp_path / "weak.py"
    path.write_text(textwrap.dedent(VOTERS).replace("<= 1", "<= 2"))
    code, out, _ = cli(capsys, "mutate", path)
    assert code == 12 and "SURVIVED   volatile-durable" in out and "SURVIVED   senders-as-count" in out
    code, _, _ = cli(capsys, "mutate", path, "--allow-survivors")
    assert code == 0


def test_quorum_and_variant_mutants_on_library_protocols(capsys):
    code, out, _ = cli(capsys, "mutate", "paxos", "--scenario", "mc", "--json")
    # one acceptor: quorum 1 has nothing smaller; the broken variants are still mutants
    assert json.loads(out)["not_applicable"][0] == {"name": "quorum-1",
                                                    "reason": "the quorum size is 1: nothing smaller to try"}
    code, out, _ = cli(capsys, "mutate", "paxos", "--json")
    assert code == 0
    found = mutants(out)
    assert found["quorum-1"]["description"] == "quorum 2 -> 1" and found["quorum-1"]["verdict"] == "killed"
    assert found["variant:minority-quorum"]["verdict"] == "killed"
    code, out, _ = cli(capsys, "mutate", "two-phase-actors", "--json")
    assert code == 0 and mutants(out)["senders-as-count"]["message"].startswith("consistent (invariant)")


def test_a_mutant_that_changes_nothing_is_equivalent_not_a_survivor(capsys):
    # without an adversary, nodes that skip validation never meet an invalid chain: the same state graph
    code, out, _ = cli(capsys, "mutate", "nakamoto", "--scenario", "honest")
    assert code == 0, out
    assert "EQUIVALENT variant:no-validation" in out and "the same state graph as the original" in out
    assert "0 survived, 1 equivalent" in out


MUTATIONS = '''
    mutations = {"noop": "a guard that is true anyway", "double": "a voter may vote twice"}
    @handles("voter", Ask)
    def voter_on_ask(self, s, m, ctx):
        mutation = getattr(self, "mutation", None)
        if not s.voted or (mutation == "noop" and s.voted and not s.voted) or mutation == "double":
            return evolve(s, voted=True), send(ctx.src, Vote())
'''


def test_equivalence_needs_the_same_graph(tmp_path, capsys):
    """A declared mutation that never acts is equivalent; one that acts but is not caught survives (exit 12)."""
    path = tmp_path / "elect_mutations.py"
    path.write_text(textwrap.dedent(VOTERS).replace("<= 1", "<= 2") + MUTATIONS)
    code, out, _ = cli(capsys, "mutate", path, "--only", "mutation:noop", "--json")
    assert code == 0 and mutants(out)["mutation:noop"]["verdict"] == "equivalent", out
    code, out, _ = cli(capsys, "mutate", path, "--only", "mutation:double", "--json")
    assert code == 12 and mutants(out)["mutation:double"]["verdict"] == "survived", out


def test_baseline_must_pass(capsys):
    # three generals with one traitor: OM(1) itself fails, so mutants of it would prove nothing
    code, _, err = cli(capsys, "mutate", "byzantine-generals", "--scenario", "n3m1")
    assert code == 2 and "the unmodified protocol does not pass (violation: IC2)" in err
    code, _, err = cli(capsys, "mutate", "two-phase", "--variant", "no-wait")
    assert code == 2 and "drop --variant" in err
