"""Rendering, explanations and minimisation, on saved traces and a tiny Byzantine protocol."""

import os
import re
import xml.etree.ElementTree as ET
from typing import NamedTuple

from consensuslab import check
from consensuslab.commands.replay import replay_file
from consensuslab.models.action import Action
from consensuslab.models.effects import just
from consensuslab.models.faults import Byzantine, Omission
from consensuslab.models.network import Unordered
from consensuslab.models.properties import always
from consensuslab.models.protocol import Protocol, forgeable, handles, initial
from consensuslab.models.records import evolve, message, state
from consensuslab.models.spec import Spec, action
from consensuslab.render import render
from consensuslab.render.changes import diff
from consensuslab.render.explain import explain
from consensuslab.render.story import build
from consensuslab.traces.result import Trace, Violation
from consensuslab.traces.shrink import Replayer, shrink

from paths import TRACES as TRACES_DIR

TRACES = str(TRACES_DIR)


def saved(name):
    return replay_file(os.path.join(TRACES, name))


# -- a broadcaster that may be Byzantine: voters adopt the first value they hear -------------
@message
class Value:
    x: int


@message
class Ping:
    pass


@state
class Voter:
    decided: int = -1


@state
class Nothing:
    pass


class Broadcast(Protocol):
    name = "broadcast-test"
    network = Unordered()
    faults = (Byzantine(("b",), 3), Omission(2))

    def topology(self):
        return {"src": ("b",), "helper": ("c",), "voter": ("v1", "v2")}

    @initial("src")
    def src_init(self, ctx):
        return Nothing()

    @forgeable("src")
    def src_forge(self, ctx):
        return (Value(0), Value(1))

    @initial("helper")
    def helper_init(self, ctx):
        from consensuslab.models.effects import broadcast
        return Nothing(), broadcast(ctx.nodes("voter"), Ping())

    @initial("voter")
    def voter_init(self, ctx):
        return Voter()

    @handles("voter", Value)
    def voter_on_value(self, s, m, ctx):
        return just(s if s.decided >= 0 else evolve(s, decided=m.x))

    @handles("voter", Ping)
    def voter_on_ping(self, s, m, ctx):
        return just(s)

    @always
    def agreement(self, w):
        return len({s.decided for s in w.states("voter")} - {-1}) <= 1


def broadcast_trace():
    """A noisy counterexample: 3 forged messages and 2 drops where 2 forgeries suffice."""
    model = Broadcast.configure().compile()
    plan = [Action("forge", "forge", "b", ("v1", Value(0))), Action("drop", "drop", "v1", ("c", Ping())),
            Action("forge", "forge", "b", ("v2", Value(1))), Action("deliver", "voter_on_value", "v1", ("b", Value(0))),
            Action("drop", "drop", "v2", ("c", Ping())), Action("forge", "forge", "b", ("v1", Value(1))),
            Action("deliver", "voter_on_value", "v2", ("b", Value(1)))]
    trace = Trace(model.initial_states()[0])
    for act in plan:
        trace.steps.append((act, model.apply(trace.states[-1], act)))
    return model, trace, Violation("agreement", "invariant", trace)


# -- diffs ------------------------------------------------------------------------------
def test_diff_recurses_into_records_and_reports_set_elements():
    @state
    class S:
        phase: str = "init"
        votes: frozenset = frozenset()
        log: tuple = ()

    old = {"nodes": {"a": S(), "b": S()}, "network": (("a", "b", 1), ("a", "c", 2))}
    new = {"nodes": {"a": S(phase="done", votes=frozenset({"x"})), "b": S(log=("e1",))},
           "network": (("a", "c", 2), ("b", "a", 3))}
    got = [c.text() for c in diff(old, new)]
    assert got == ["nodes.a.phase: init -> done", "nodes.a.votes: +x", "nodes.b.log: +e1",
                   "network: +<b, a, 3> -<a, b, 1>"]


def test_diff_of_a_sequence_keeps_its_order():
    """A log rewritten in another order is shown before and after, not as entries gained and lost; one that
    grew or shrank at an end shows what was appended or removed."""
    one, three = ("a",), ("c", "b", "a")
    assert [c.text() for c in diff({"log": (one,)}, {"log": (("b", "c"),)})] == ["log[0]: <a> -> <b, c>"]
    assert [c.text() for c in diff({"log": one}, {"log": ("b", "c")})] == ["log: <a> -> <b, c>"]
    assert [c.text() for c in diff({"log": one}, {"log": three})] == ["log: <a> -> <c, b, a>"]
    assert [c.text() for c in diff({"log": three}, {"log": ("c",)})] == ["log: -b -a"]
    assert [c.text() for c in diff({"log": three}, {"log": ("a",)})] == ["log: -c -b"]
    assert [c.text() for c in diff({"log": one}, {"log": ("a", "d")})] == ["log: +d"]


def test_text_shows_who_did_what_to_whom_only_changes_and_the_conflict():
    done = saved("two-phase-no-wait.itf.json")
    text = render("text", done.model, done.trace, done.violation)
    step3 = text.split("\n3 ")[1].split("\n4 ")[0]
    assert [x.strip() for x in step3.strip().splitlines()] == [
        "TMRcvPrepared(r2)", "TM: receives Prepared from r2 (sent at step 2)", "tmPrepared: +r2"]
    assert "TM: sends Commit to r1, r2, r3" in text
    assert "msgs: +Prepared(rm=r2)" in text and "rmState[r2]: working -> prepared" in text
    assert "rmState = {r1: working, r2: working, r3: working}" in text
    assert "conflicting decisions: r1=aborted, r2=committed" in text
    assert "step 4: the TM decided commit having Prepared from r2, not from r1, r3" in text
    colored = render("text", done.model, done.trace, done.violation, color=True)
    assert "\x1b[" in colored and "TMRcvPrepared(r2)" in colored


def test_spec_lanes_and_message_matching():
    done = saved("two-phase-no-wait.itf.json")
    st = build(done.model, done.trace)
    assert st.lanes == ["TM", "r1", "r2", "r3"]  # the declared participants, in order
    receive = st.events[2]
    assert (receive.lane, receive.receives[0].src, receive.receives[0].sent) == ("TM", "r2", 2)
    prepared = [a for a in st.arrows if a.label == "Prepared"]
    assert [(a.src, a.dst, a.sent, a.received) for a in prepared] == [("r2", "TM", 2, 3)]
    commits = sorted((a.dst, a.received) for a in st.arrows if a.label == "Commit")
    assert commits == [("r1", None), ("r2", 5), ("r3", None)]


# -- mermaid and svg ---------------------------------------------------------------------
def test_mermaid_arrows_and_faults():
    done = saved("two-phase-no-wait.itf.json")
    mm = render("mermaid", done.model, done.trace, done.violation)
    assert mm.startswith("sequenceDiagram\n")
    assert "L_r2->>L_TM: 2. Prepared" in mm and "L_TM->>L_r2: 4. Commit" in mm and "L_TM->>L_r3: 4. Commit" in mm
    assert "Note over L_TM: 3. TMRcvPrepared(r2)<br/>from r2, sent at step 2<br/>tmPrepared: +r2" in mm
    assert "VIOLATED TCConsistent" in mm
    model, trace, v = broadcast_trace()
    mm = render("mermaid", model, trace, v)
    assert "participant L_b as b (Byzantine)" in mm
    assert "L_b-)L_v1: 1. FORGED Value(x=0)" in mm and "L_c-xL_v1: 2. DROPPED Ping()" in mm
    texts = [line.split(": ", 1)[1] for line in mm.splitlines()[1:] if ": " in line]
    assert not any(re.search(r"[;<>]", re.sub(r"#(lt|gt|59|35);|<br/>", "", t)) for t in texts)


def test_svg_is_well_formed_with_one_group_per_step_and_marks():
    model, trace, v = broadcast_trace()
    svg = render("svg", model, trace, v)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    steps = [g for g in root.iter(ns + "g") if g.get("class") == "step"]
    assert [g.get("data-step") for g in steps] == [str(k) for k in range(1, 8)]
    texts = " ".join("".join(t.itertext()) for t in root.iter(ns + "text"))
    assert "forged Value(x=0)" in texts and "dropped Ping()" in texts and "VIOLATED agreement" in texts
    done = saved("two-phase-actors-coordinator-crash.itf.json")
    crash = ET.fromstring(render("svg", done.model, done.trace, done.violation))
    assert any(p.get("class") == "mark" for p in crash.iter(ns + "path"))


# -- explanations ---------------------------------------------------------------------------
def test_explain_pbft_quorums_meet_only_in_the_byzantine_replica():
    done = saved("pbft-three-f.itf.json")
    lines = explain(done.model, done.trace, done.violation)
    assert "quorum for req1: Commit(v=0, n=1, d=req1) from {r0, r1}" in lines
    assert "quorum for req2: Commit(v=0, n=1, d=req2) from {r0, r2}" in lines
    assert any(x.startswith("in both quorums: {r0}, all Byzantine") for x in lines)
    assert "conflicting decisions: r1 log[0]=req1, r2 log[0]=req2" in lines


def test_explain_paxos_minority_quorums_are_disjoint():
    done = saved("paxos-actors-minority-quorum-dfs.itf.json")
    lines = explain(done.model, done.trace, done.violation)
    assert any("l1 v1 -> v2" in x for x in lines)
    assert any("share no node (quorum size 1 of 3)" in x for x in lines)


def test_explain_byzantine_equivocation():
    model, trace, v = broadcast_trace()
    lines = explain(model, trace, v)
    assert "step 1: b (Byzantine) sent Value(x=0) to v1" in lines
    assert any(x.startswith("b equivocated:") for x in lines)
    assert "conflicting decisions: v1=0, v2=1" in lines


# -- minimisation ------------------------------------------------------------------------------
def test_minimize_drops_needless_faults_then_steps():
    model, trace, v = broadcast_trace()
    shrunk = shrink(model, trace, v)
    kinds = [a.kind for a in shrunk.trace.actions]
    assert kinds.count("forge") == 2 and kinds.count("drop") == 0 and len(kinds) == 4
    assert shrunk.summary == "needs 1 equivocating node and 2 forged messages (4 steps)"
    assert Replayer(model, v, trace.initial).reproduces(shrunk.trace.actions) is not None
    # one fault fewer no longer violates: the result is 1-minimal in faults
    forges = [a for a in shrunk.trace.actions if a.kind == "forge"]
    assert Replayer(model, v, trace.initial).reproduces([a for a in shrunk.trace.actions if a != forges[0]]) is None


def test_minimize_deadlock_and_transition_traces():
    done = saved("two-phase-actors-coordinator-crash-dfs.itf.json")
    shrunk = shrink(done.model, done.trace, done.violation)
    assert (len(done.trace), len(shrunk.trace)) == (4, 3)
    assert shrunk.summary == "needs 1 crashed node (3 steps)"
    done = saved("paxos-actors-minority-quorum-dfs.itf.json")
    assert len(shrink(done.model, done.trace, done.violation).trace) == 10 < len(done.trace)


# -- a spec with a message set and no ``participants``: nobody to name as the sender -----------------
class Posts(NamedTuple):
    box: frozenset


class Poster(Spec):
    name = "poster"

    def init(self):
        yield Posts(frozenset())

    @action(x="X")
    def Post(self, s, x):
        return s._replace(box=s.box | {Value(x)})

    X = (1, 2)

    @always
    def AtMostOne(self, s):
        return len(s.box) < 2


def test_a_message_whose_sender_the_spec_does_not_name_is_not_said_to_come_from_none():
    model = Poster().compile()
    trace = check(model, progress=False).violation.trace
    text = render("text", model, trace, None)
    assert "box: +Value(x=1)" in text and "box: +Value(x=2)" in text
    assert "None" not in text
