"""Charts of spec protocols show the protocol: node lanes, message arrows, node names, explanations.

The Raft Figure 8 counterexample (48 steps, breadth-first) is the yardstick:
from any format a reader can tell which leader committed what in which term,
and which two commits conflict.
"""

import re
import xml.etree.ElementTree as ET
from typing import NamedTuple

import attrs
import pytest

from consensuslab.commands.replay import replay_file
from consensuslab.models.messages import Channel, Participants
from consensuslab.models.properties import always
from consensuslab.models.records import message, record
from consensuslab.models.spec import Spec, action
from consensuslab.render import FORMATS, render
from consensuslab.render.explain import explain
from consensuslab.render.story import build
from consensuslab.traces.result import Trace, Violation

from clirun import cli
from paths import TRACES

SVG = "{http://www.w3.org/2000/svg}"
FIGURE8 = [
    "leaders by term: term 2 s1 (step 6), term 3 s2 (step 13), term 4 s1 (step 26), term 5 s2 (step 39)",
    "step 34: s1 committed index 1 = <term 2, value 1> as leader of term 4, counting replicas on s1, s3 "
    "(an entry of term 2, not of its own term 4)",
    "step 48: s2 committed index 1 = <term 3, value 1> as leader of term 5, counting replicas on s1, s2 "
    "(an entry of term 3, not of its own term 5)",
    "conflict at index 1: s1 committed <term 2, value 1> in term 4 (step 34), s2 committed <term 3, value 1> "
    "in term 5 (step 48)",
    "step 44: s1 removed its committed index 1 <term 2, value 1> (on s2's AppendEntries, term 5)",
]


@pytest.fixture(scope="module")
def figure8():
    return replay_file(str(TRACES / "raft-figure8.itf.json"))


def test_figure8_steps_sit_on_server_lanes_and_messages_are_arrows(figure8):
    st = build(figure8.model, figure8.trace)
    assert st.lanes == ["s1", "s2", "s3"]  # no lane named after the protocol
    assert all(e.lane in ("s1", "s2", "s3") for e in st.events)
    assert {e.lane for e in st.events} == {"s1", "s2", "s3"}  # s3 votes and takes entries on its own lane
    messages = [a for a in st.arrows if a.kind == "message"]
    assert len(messages) == 18 and all(a.received is not None for a in messages)
    first = messages[0]
    assert (first.src, first.dst, first.sent, first.received) == ("s1", "s2", 2, 3)
    assert first.label == "RequestVoteRequest(mterm=2, mlastLogTerm=0, mlastLogIndex=0)"


def test_figure8_explained_in_every_format(figure8):
    lines = explain(figure8.model, figure8.trace, figure8.violation)
    assert lines[:5] == FIGURE8
    for fmt in FORMATS:
        body = render(fmt, figure8.model, figure8.trace, figure8.violation)
        for line in FIGURE8:
            shown = line.replace("<", "#lt;").replace(">", "#gt;") if fmt == "mermaid" else line
            shown = shown.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#x27;") if fmt == "svg" else shown
            if fmt == "html":
                assert line.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#x27;") in body, line
            else:
                assert shown in body, (fmt, line)


def test_node_names_not_indices(figure8):
    text = render("text", figure8.model, figure8.trace, figure8.violation)
    assert "currentTerm[s1]: 1 -> 2" in text and "nextIndex[s1][s3]: 2 -> 1" in text
    assert "currentTerm = {s1: 1, s2: 1, s3: 1}" in text
    assert not re.search(r"\b(currentTerm|log|votedFor|commitIndex|nextIndex|matchIndex)\[\d", text)
    html = render("html", figure8.model, figure8.trace, figure8.violation)
    assert '"name": "[s1]"' in html and '"nextIndex[s1][s3]: 2 -> 1"' in html  # the page's data


def test_steps_44_to_46_read_differently_everywhere(figure8):
    """Three receipts of one message, three effects: no rendering may show them alike."""
    svg = ET.fromstring(render("svg", figure8.model, figure8.trace, figure8.violation))
    boxes = {g.get("data-step"): " ".join("".join(t.itertext()) for t in g.iter(SVG + "text"))
             for g in svg.iter(SVG + "g") if g.get("class") == "step"}
    assert len({boxes[str(k)].split(" ", 1)[1] for k in (44, 45, 46)}) == 3
    assert "log[s1]: -<2, 1>" in boxes["44"] and "log[s1]: +<3, 1>" in boxes["45"]
    assert "commitIndex[s1]: 1 -> 0" in boxes["46"]
    mm = render("mermaid", figure8.model, figure8.trace, figure8.violation)
    notes = [line for line in mm.splitlines() if re.match(r"\s+Note over L_s1: 4[456]\. ", line)]
    assert len(notes) == 3 and len({n.split(". ", 1)[1] for n in notes}) == 3
    text = render("text", figure8.model, figure8.trace, figure8.violation)
    blocks = [text.split(f"\n{k} ")[1].split(f"\n{k + 1} ")[0] for k in (44, 45, 46)]
    assert len({b.split("\n", 2)[2] for b in blocks}) == 3


def test_every_bundled_protocol_explains_its_counterexample():
    """Each saved counterexample gets lines from its protocol's own ``explain`` hook."""
    for path in sorted(TRACES.glob("*.itf.json")):
        done = replay_file(str(path))
        hook = getattr(done.model.definition, "explain", None)
        lines = explain(done.model, done.trace, done.violation)
        assert lines, path.name
        if hook is not None:
            own = hook(done.trace, done.violation)
            assert own and all(x in lines for x in own), path.name


def test_check_replay_and_simulate_print_the_explanation(tmp_path):
    out = tmp_path / "tp.itf.json"
    wanted = "* step 4: the TM decided commit having Prepared from r2, not from r1"
    proc = cli("check", "two-phase", "--variant", "no-wait", "-p", "rm=2", "--trace-out", out)
    assert proc.returncode == 12 and wanted in proc.stdout and "* step 1: r1 aborted on its own" in proc.stdout
    replay = cli("replay", out)
    assert replay.returncode == 12 and wanted in replay.stdout
    sim = cli("simulate", "two-phase", "--variant", "no-wait", "-p", "rm=2", "--walks", "200", "--examples", "5")
    assert sim.returncode == 12 and "the TM decided commit having Prepared from" in sim.stdout
    assert "conflicting decisions" in sim.stdout


# -- a user's spec: messages inferred from conventional fields, its own explanation -------------
@message
class Ping:
    src: str
    dst: str
    n: int


@record
class PingState(NamedTuple):
    got: tuple
    net: frozenset


class PingPong(Spec):
    """Two nodes; a declares nothing about messages: ``src``/``dst`` say where they go."""

    name = "ping-pong-test"
    Node = ("a", "b")

    def init(self):
        yield PingState((0, 0), frozenset())

    @action(by="a")
    def SendPing(self, s):
        if not s.net:
            return s._replace(net=s.net | {Ping("a", "b", 1)})

    @action(m=lambda self: (Ping("a", "b", 1),), by="b")
    def RecvPing(self, s, m):
        if m in s.net:
            return s._replace(got=(s.got[0], m.n), net=s.net - {m})

    @always
    def never_got(self, s):
        return s.got[1] == 0

    def explain(self, trace):
        return [f"b got ping {trace.states[-1].got[1]}"]


def ping_trace():
    model = PingPong.configure().compile()
    trace = Trace(model.initial_states()[0])
    for name in ("SendPing", "RecvPing"):
        act = next(a for a, _ in model.successors(trace.states[-1]) if a.name == name)
        trace.steps.append((act, model.apply(trace.states[-1], act)))
    return model, trace, Violation("never_got", "invariant", trace)


def test_a_user_spec_gets_arrows_node_names_and_its_own_explanation():
    model, trace, v = ping_trace()
    st = build(model, trace)
    assert st.lanes == ["a", "b"]
    assert [(a.src, a.dst, a.sent, a.received, a.label) for a in st.arrows] == [("a", "b", 1, 2, "Ping(n=1)")]
    text = render("text", model, trace, v)
    assert "got = {a: 0, b: 0}" in text and "got[b]: 0 -> 1" in text  # positions named by the Node tuple
    assert "b: receives Ping(n=1) from a (sent at step 1)" in text
    assert "* b got ping 1" in text
    assert "L_a->>L_b: 1. Ping(n=1)" in render("mermaid", model, trace, v)


def test_declared_channels_route_by_type_and_name_non_string_nodes():
    @attrs.frozen
    class Order:
        to: int

    class Spec2(Spec):
        name = "routes-test"
        R = (0, 1, 2)
        participants = Participants("R", label="p{}", per_node=("x",),
                                    channels=(Channel("net", routes={Order: (lambda self, m: 0, "R")}),))

    from consensuslab.models.messages import Wiring

    class FakeModel:
        definition = Spec2.configure()

        def node_of(self, act):
            return None

        def encode_state(self, s):
            return dict(s._asdict())

    w = Wiring(FakeModel())
    assert [w.label(n) for n in w.nodes] == ["p0", "p1", "p2"]
    ch = w.channels[0]
    assert w.sender(ch, Order(2)) == 0 and w.receivers(ch, Order(2)) == (0, 1, 2)
    assert w.index_nodes("x", 0) == (0, 1, 2) and w.index_nodes("x", 1) is None


def test_positions_are_named_by_a_group_only_when_no_other_constant_has_their_length():
    """KeyValueStore: ``Key`` and ``TxId`` number their positions, ``Val`` names values; its two-slot store was
    shown indexed by values (``store = {v1: NoVal, v2: NoVal}``)."""
    from consensuslab.models.messages import Wiring

    @record
    class Slots(NamedTuple):
        store: tuple
        acks: tuple

    def wiring(**constants):
        class Undeclared(Spec):
            name = "undeclared"
            locals().update(constants)

        class FakeModel:
            definition = Undeclared.configure()

            def encode_state(self, s):
                return dict(s._asdict())

        return Wiring(FakeModel(), Slots(("NoVal", "NoVal"), (0, 0, 0)))

    alone = wiring(Val=("v1", "v2"), Node=("n1", "n2", "n3"))
    assert alone.index_nodes("store", 0) == ("v1", "v2") and alone.index_nodes("acks", 0) == ("n1", "n2", "n3")
    shared = wiring(Val=("v1", "v2"), Key=(0, 1), Node=("n1", "n2", "n3"), Proc=("n1", "n2", "n3"))
    assert shared.index_nodes("store", 0) is None  # Key has two elements too: positions stay numbers
    assert shared.index_nodes("acks", 0) == ("n1", "n2", "n3")  # two names for one group are one group
    @record
    class Instance(NamedTuple):
        ballot: int
        cmd: str
        status: str

    null = Instance(-1, "none", "none")  # a record constant of three fields is one value, not a group of three
    assert wiring(Node=("n1", "n2", "n3"), NullInst=null).index_nodes("acks", 0) == ("n1", "n2", "n3")
