"""The Slush protocol (Avalanche family), PlusCal version, transcribed from the TLA+ Examples.

Source: ``specifications/SlushProtocol/Slush.tla`` (Andrew Helwer; the TLA+
translation of its PlusCal algorithm) and ``SlushSmall.cfg`` in the TLA+
Examples repository (github tlaplus/Examples).

Each node ``n`` hosts a loop process ``l`` and a query process ``q``
(``HostMapping``: ``{n_k, l_k, q_k}``).  A client colours uncoloured nodes Red or
Blue.  Once its node has a colour, a loop process samples ``SampleSetSize``
query processes of other nodes, sends each a query with its node's colour,
waits for every reply and recolours its node to a colour that at least
``PickFlipThreshold`` replies carry; after ``SlushIterationCount`` rounds it
sends a termination message.  A query process answers a query with its node's
colour (adopting the query's colour if its node has none) until the message
set is exactly the termination messages.

Variables as in the translation: ``pick`` (per node, a tuple indexed like
``Node``, ``"NoColor"`` for the model value), ``message`` (a frozenset of
``Query``, ``QueryReply`` and ``Termination`` records; the TLA+ records'
``type`` field is the record's class), ``pc`` (a tuple indexed like
``ProcSet``: the query processes, the loop processes, ``"ClientRequest"``),
``sampleSet`` and ``loopVariant`` (tuples indexed like ``SlushLoopProcess``).
One action per PlusCal label, the process the argument ``p`` (``by="p"``),
with the translation's ``UNCHANGED`` clauses:

- ``QueryReplyLoop(q)``, ``WaitForQueryMessageOrTermination(q)``,
  ``RespondToQueryMessage(q, msg)``: ``\\E msg \\in PendingQueryMessage(self)``
  is the argument ``msg``, a domain that reads the state;
- ``RequireColorAssignment(l)``, ``ExecuteSlushLoop(l)``,
  ``QuerySampleSet(l, sample)`` (``sample`` ranges over the
  ``SampleSetSize``-subsets of the other nodes' query processes, a domain that
  depends on ``l``), ``TallyQueryReplies(l)``, ``SlushLoopTermination(l)``;
- ``ClientRequestLoop``, ``AssignColorToNode(node, color)`` (a step that changes
  nothing but ``pc`` where ``node`` is coloured already, as in the translation);
- ``Terminating``: the translation's stuttering step once every process is
  ``Done`` (it keeps TLC, and us, from reporting a deadlock).

Constants (``SlushSmall.cfg``): 3 nodes (parameter ``n``),
``SlushIterationCount = 1``, ``SampleSetSize = 2``, ``PickFlipThreshold = 2``.
Invariant ``TypeInvariant``; TLC checks deadlock (there is none).

Distinct states: TLC 274,678 (manifest, SlushSmall.cfg); ours 274,678.
Scenario ``small`` (``n=2, sample=1, threshold=1``, one iteration): ours
2,498; no TLC run to compare with, so it is pinned as ours.

Added, not in the cfg: ``SampleConsistency``: every query and every reply in
flight is between a loop process and a member of its current sample set (so a
tally counts only answers to the queries of its own round); it holds on the
cfg.  Variant ``no-await``: ``TallyQueryReplies`` skips its ``await`` and tallies
before every reply has arrived; the queries of the round are then still in
flight with ``sampleSet`` reset to ``{}``, and ``SampleConsistency`` fails.
"""

from __future__ import annotations

from itertools import combinations
from typing import NamedTuple

from consensuslab import Param, Scenario, Spec, action, always, message, record, replace_at, sometimes

RED, BLUE = "Red", "Blue"
COLOR = (RED, BLUE)
NO_COLOR = "NoColor"  # the model value NoColor: CHOOSE c : c \notin Color
CLIENT = "ClientRequest"


@message
class Query:
    """[type |-> QueryMessageType, src, dst, color]: loop process src asks query process dst."""
    src: str
    dst: str
    color: str


@message
class QueryReply:
    """[type |-> QueryReplyMessageType, src, dst, color]: query process src answers loop process dst."""
    src: str
    dst: str
    color: str


@message
class Termination:
    """[type |-> TerminationMessageType, pid]: loop process pid has finished."""
    pid: str


@record
class SlushState(NamedTuple):
    pick: tuple  # pick[k]: colour of node n(k+1), or NO_COLOR
    message: frozenset  # the messages in flight
    pc: tuple  # pc[k]: label of process ProcSet[k]
    sampleSet: tuple  # sampleSet[k]: the sample of loop process l(k+1), a frozenset of query processes
    loopVariant: tuple  # loopVariant[k]: rounds loop process l(k+1) has done


class Slush(Spec):
    name = "slush"
    summary = "The Slush protocol of the Avalanche family, Slush.tla (TLA+ Examples)"
    params = {
        "n": Param(3, "number of nodes (each with one loop and one query process)", min=1, max=5),
        "iterations": Param(1, "SlushIterationCount", min=0, max=5),
        "sample": Param(2, "SampleSetSize", min=0, max=4),
        "threshold": Param(2, "PickFlipThreshold", min=0, max=4),
    }
    variants = {"no-await": "TallyQueryReplies tallies without waiting for every reply"}
    scenarios = (
        Scenario("small", "2 nodes, 1 iteration, sample 1, threshold 1 (ours: 2,498; no TLC run)",
                 {"n": 2, "iterations": 1, "sample": 1, "threshold": 1}, states=2498),
        Scenario("cfg", "SlushSmall.cfg: 3 nodes, 1 iteration, sample 2, threshold 2 (TLC: 274,678)",
                 {"n": 3, "iterations": 1, "sample": 2, "threshold": 2}, states=274678),
        Scenario("no-await", "a tally before every reply is in", {"n": 2, "iterations": 1, "sample": 1,
                                                                 "threshold": 1},
                 variant="no-await", expect="violation", expect_property="SampleConsistency"),
    )

    def setup(self):
        self.Node = tuple(f"n{k}" for k in range(1, self.n + 1))
        self.SlushLoopProcess = tuple(f"l{k}" for k in range(1, self.n + 1))
        self.SlushQueryProcess = tuple(f"q{k}" for k in range(1, self.n + 1))
        self.ProcSet = self.SlushQueryProcess + self.SlushLoopProcess + (CLIENT,)
        self.Color = COLOR
        # HostOf: {n_k, l_k, q_k} is one mapping of HostMapping
        self.host_of = {}
        for k, node in enumerate(self.Node):
            self.host_of[self.SlushLoopProcess[k]] = node
            self.host_of[self.SlushQueryProcess[k]] = node
        self.proc_index = {p: k for k, p in enumerate(self.ProcSet)}
        self.node_index = {node: k for k, node in enumerate(self.Node)}
        self.loop_index = {p: k for k, p in enumerate(self.SlushLoopProcess)}
        # the domain of QuerySampleSet's possibleSampleSet, per loop process
        self.samples = {}
        for p in self.SlushLoopProcess:
            others = [q for q in self.SlushQueryProcess if self.host_of[q] != self.host_of[p]]
            self.samples[p] = [frozenset(c) for c in combinations(others, self.sample)]
        self.TerminationMessage = frozenset(Termination(p) for p in self.SlushLoopProcess)

    def init(self):
        pc = tuple("QueryReplyLoop" if p in self.SlushQueryProcess
                   else "RequireColorAssignment" if p in self.SlushLoopProcess
                   else "ClientRequestLoop" for p in self.ProcSet)
        yield SlushState(pick=(NO_COLOR,) * self.n, message=frozenset(), pc=pc,
                         sampleSet=(frozenset(),) * self.n, loopVariant=(0,) * self.n)

    # -- the define block ---------------------------------------------------------------------
    def PendingQueryMessage(self, s, pid):
        return [m for m in s.message if type(m) is Query and m.dst == pid]

    def PendingQueryReplyMessage(self, s, pid):
        return [m for m in s.message if type(m) is QueryReply and m.dst == pid]

    def Terminate(self, s):
        return s.message == self.TerminationMessage

    def Pick(self, s, pid):
        return s.pick[self.node_index[self.host_of[pid]]]

    def set_pc(self, s, p, label):
        return replace_at(s.pc, self.proc_index[p], label)

    def at(self, s, p, label):
        return s.pc[self.proc_index[p]] == label

    # -- process SlushQuery \in SlushQueryProcess ---------------------------------------------
    @action(p="SlushQueryProcess", by="p", unchanged=("pick", "message", "sampleSet", "loopVariant"))
    def QueryReplyLoop(self, s, p):
        if self.at(s, p, "QueryReplyLoop"):
            if not self.Terminate(s):
                return s._replace(pc=self.set_pc(s, p, "WaitForQueryMessageOrTermination"))
            return s._replace(pc=self.set_pc(s, p, "Done"))

    @action(p="SlushQueryProcess", by="p", unchanged=("pick", "message", "sampleSet", "loopVariant"))
    def WaitForQueryMessageOrTermination(self, s, p):
        if self.at(s, p, "WaitForQueryMessageOrTermination") and (
                self.PendingQueryMessage(s, p) or self.Terminate(s)):
            if self.Terminate(s):
                return s._replace(pc=self.set_pc(s, p, "QueryReplyLoop"))
            return s._replace(pc=self.set_pc(s, p, "RespondToQueryMessage"))

    @action(p="SlushQueryProcess", msg=lambda self, s, p: self.PendingQueryMessage(s, p), by="p",
            unchanged=("sampleSet", "loopVariant"))
    def RespondToQueryMessage(self, s, p, msg):
        if self.at(s, p, "RespondToQueryMessage"):
            color = msg.color if self.Pick(s, p) == NO_COLOR else self.Pick(s, p)
            host = self.node_index[self.host_of[p]]
            return s._replace(pick=replace_at(s.pick, host, color),
                              message=(s.message - {msg}) | {QueryReply(p, msg.src, color)},
                              pc=self.set_pc(s, p, "QueryReplyLoop"))

    # -- process SlushLoop \in SlushLoopProcess -----------------------------------------------
    @action(p="SlushLoopProcess", by="p", unchanged=("pick", "message", "sampleSet", "loopVariant"))
    def RequireColorAssignment(self, s, p):
        if self.at(s, p, "RequireColorAssignment") and self.Pick(s, p) != NO_COLOR:
            return s._replace(pc=self.set_pc(s, p, "ExecuteSlushLoop"))

    @action(p="SlushLoopProcess", by="p", unchanged=("pick", "message", "sampleSet", "loopVariant"))
    def ExecuteSlushLoop(self, s, p):
        if self.at(s, p, "ExecuteSlushLoop"):
            if s.loopVariant[self.loop_index[p]] < self.iterations:
                return s._replace(pc=self.set_pc(s, p, "QuerySampleSet"))
            return s._replace(pc=self.set_pc(s, p, "SlushLoopTermination"))

    @action(p="SlushLoopProcess", sample=lambda self, p: self.samples[p], by="p",
            unchanged=("pick", "loopVariant"))
    def QuerySampleSet(self, s, p, sample):
        if self.at(s, p, "QuerySampleSet"):
            color = self.Pick(s, p)
            return s._replace(sampleSet=replace_at(s.sampleSet, self.loop_index[p], sample),
                              message=s.message | {Query(p, q, color) for q in sample},
                              pc=self.set_pc(s, p, "TallyQueryReplies"))

    @action(p="SlushLoopProcess", by="p", unchanged=())
    def TallyQueryReplies(self, s, p):
        if not self.at(s, p, "TallyQueryReplies"):
            return None
        k = self.loop_index[p]
        sample = s.sampleSet[k]
        replies = self.PendingQueryReplyMessage(s, p)
        if self.variant != "no-await" and not all(any(m.src == q for m in replies) for q in sample):
            return None
        red = len([m for m in replies if m.src in sample and m.color == RED])
        blue = len([m for m in replies if m.src in sample and m.color == BLUE])
        pick = s.pick
        host = self.node_index[self.host_of[p]]
        if red >= self.threshold:
            pick = replace_at(pick, host, RED)
        elif blue >= self.threshold:
            pick = replace_at(pick, host, BLUE)
        answered = {m for m in s.message if type(m) is QueryReply and m.src in sample and m.dst == p}
        return SlushState(pick=pick, message=s.message - answered, pc=self.set_pc(s, p, "ExecuteSlushLoop"),
                          sampleSet=replace_at(s.sampleSet, k, frozenset()),
                          loopVariant=replace_at(s.loopVariant, k, s.loopVariant[k] + 1))

    @action(p="SlushLoopProcess", by="p", unchanged=("pick", "sampleSet", "loopVariant"))
    def SlushLoopTermination(self, s, p):
        if self.at(s, p, "SlushLoopTermination"):
            return s._replace(message=s.message | {Termination(p)}, pc=self.set_pc(s, p, "Done"))

    # -- process ClientRequest = "ClientRequest" ----------------------------------------------
    @action(by=CLIENT, unchanged=("pick", "message", "sampleSet", "loopVariant"))
    def ClientRequestLoop(self, s):
        if self.at(s, CLIENT, "ClientRequestLoop"):
            if any(c == NO_COLOR for c in s.pick):
                return s._replace(pc=self.set_pc(s, CLIENT, "AssignColorToNode"))
            return s._replace(pc=self.set_pc(s, CLIENT, "Done"))

    @action(node="Node", color="Color", by=CLIENT, unchanged=("message", "sampleSet", "loopVariant"))
    def AssignColorToNode(self, s, node, color):
        if self.at(s, CLIENT, "AssignColorToNode"):
            k = self.node_index[node]
            pick = replace_at(s.pick, k, color) if s.pick[k] == NO_COLOR else s.pick
            return s._replace(pick=pick, pc=self.set_pc(s, CLIENT, "ClientRequestLoop"))

    # -- Terminating: allow infinite stuttering to prevent deadlock on termination ------------
    @action
    def Terminating(self, s):
        if all(label == "Done" for label in s.pc):
            return s

    # -- properties ---------------------------------------------------------------------------
    def is_message(self, m):
        """m \\in Message."""
        if type(m) is Query:
            return m.src in self.SlushLoopProcess and m.dst in self.SlushQueryProcess and m.color in COLOR
        if type(m) is QueryReply:
            return m.src in self.SlushQueryProcess and m.dst in self.SlushLoopProcess and m.color in COLOR
        return type(m) is Termination and m.pid in self.SlushLoopProcess

    @always
    def TypeInvariant(self, s):
        return (len(s.pick) == self.n and all(c in COLOR or c == NO_COLOR for c in s.pick)
                and all(self.is_message(m) for m in s.message))

    @always
    def SampleConsistency(self, s):
        """Every query and reply in flight is between a loop process and a member of its current sample."""
        for m in s.message:
            if type(m) is Query and m.dst not in s.sampleSet[self.loop_index[m.src]]:
                return False
            if type(m) is QueryReply and m.src not in s.sampleSet[self.loop_index[m.dst]]:
                return False
        return True

    @sometimes
    def all_done(self, s):
        return all(label == "Done" for label in s.pc)
