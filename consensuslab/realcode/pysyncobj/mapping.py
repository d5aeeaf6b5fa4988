"""How a PySyncObj log reads against the bundled raft model (``validate --mapping pysyncobj``).

PySyncObj logs the effects of one Raft step as several events, and raft.tla
splits some of PySyncObj's steps in two, so the mapping reads each node's
events in order, in the context of the message being handled:

* a timeout is ``role`` follower->candidate then ``term`` (t, itself): Timeout;
  a candidate's next timeout is the ``term`` event alone;
* a ``receive`` checks the node's state before it; its handling follows:
  ``term`` (t, none) is UpdateTerm, ``role`` ->follower after it nothing more;
  a vote request then ``term`` (t, the candidate) is HandleRequestVoteRequest
  granting (its ``send`` response_vote is the reply already in flight), and a
  request no vote follows is HandleRequestVoteRequest refusing (PySyncObj
  sends no refusal; the model's stays in flight, unread); an AppendEntries's
  ``log`` truncations and appends are tracked and its ``send`` next_node_idx is
  HandleAppendEntriesRequest, after which the node's log must be the tracked one
  (PySyncObj truncates after prevLogIdx and appends again even where the
  entries match: within one message that is no change); a stale one nothing
  answers is HandleAppendEntriesRequest rejecting; a candidate that follows
  a leader of its own term (``role`` ->follower, no term) is its step down;
* ``role`` candidate->leader is BecomeLeader, a leader's ``log`` append is
  ClientRequest (its first, the no-op, too), a leader's ``commit`` is
  AdvanceCommitIndex, ``role`` leader->follower without a term is StepDown;
* a ``send`` of request_vote or append_entries is RequestVote or AppendEntries
  with exactly the logged message (an unsent one too: it never arrives);
* next_node_idx carries no term: its term is the sender's, read from the
  send its ``link`` names;
* a ``restart`` after a ``crash`` is Restart; until its next ``commit`` the
  node's commit index is not compared (PySyncObj restores a lazily persisted
  one, raft.tla starts from 0);
* client traffic, forwarded commands and leadership transfer messages are
  outside raft.tla and take no step; a snapshot (``clear``, a ``serialized``
  chunk) and chunked entries cannot be taken by any step: raft.tla has no
  InstallSnapshot.

``params`` configure the raft model as PySyncObj replicates: batches,
pipelining, rejection hints, check-quorum step down (``raft_implementation``),
and bounds no run reaches.
"""

from __future__ import annotations

from consensuslab.checkers.validation.expect import Expect
from consensuslab.checkers.validation.mapping import Mapping, fault_class
from consensuslab.models.action import Action
from consensuslab.protocols.raft_log import copies, last_term
from consensuslab.realcode.pysyncobj.translate import Translation

RAFT_MESSAGES = ("request_vote", "response_vote", "append_entries", "next_node_idx")
NOT_IN_RAFT_TLA = "raft.tla has no InstallSnapshot (a gap in the model)"


def step(name: str, *args) -> Action:
    return Action("step", name, None, args)


class PySyncObjMapping(Mapping):
    protocol = "raft"
    params = {"servers": 3, "max_term": 30, "max_log": 5000, "values": 3, "max_messages": 10000,
              "max_copies": 64, "max_restarts": 100, "batch": 5000, "pipeline": True, "hint": True,
              "step_down": True}
    helper_limit = 2

    def prepare(self, model, log) -> None:
        self.log = log
        self.tr = Translation(log.nodes)
        self.named: dict[str, object] = {}  # a field name -> the message it is about

    def expectations(self, model, node, events):
        return NodeReader(self, node, events).read()

    def observe(self, model, node, name, before, action, after):
        k = model.spec.index[self.tr.name(node)]
        if name in ("state", "currentTerm", "votedFor", "commitIndex"):
            return getattr(after, name)[k]
        if name == "logLength":
            return len(after.log[k])
        if name == "lastTerm":
            return last_term(after.log[k])
        if name == "log":
            return after.log[k]
        m = self.named[name]
        if name.startswith("sent "):
            return copies(after.messages, m) > copies(before.messages, m)
        return copies(after.messages, m) > 0

    def silent(self, model, action, logged):
        """Only the network's losses and copies go unlogged: every restart is logged."""
        fault = fault_class(action)
        return fault if fault in ("loss", "duplication") else None

    def sent(self, m) -> tuple[str, bool]:
        name = f"sent {m}"
        self.named[name] = m
        return name, True

    def in_flight(self, m) -> tuple[str, bool]:
        name = f"in flight {m}"
        self.named[name] = m
        return name, True


class NodeReader:
    """One node's events, read in order with the handling they belong to."""

    def __init__(self, mapping: PySyncObjMapping, node: str, events):
        self.mapping, self.tr, self.node, self.events = mapping, mapping.tr, node, events
        self.me = self.tr.name(node)
        self.log: list[tuple[int, int]] = []  # the node's entries after the sentinel, as raft.tla's
        self.context = None  # (kind, model message, the event that received it, answered?)
        self.previous = None  # the last event that was not client traffic
        self.free_commit = False

    def expect(self, event, steps=None, fields=(), helpers=frozenset(), label=""):
        return Expect(self.node, event.ref, None if steps is None else frozenset(steps), helpers, tuple(fields),
                      label)

    def fields(self, event, skip=()):
        skip = tuple(skip) + (("commitIndex",) if self.free_commit else ())
        return self.tr.fields(event.state, skip)

    def read(self):
        for event in self.events:
            if event.kind in ("client",):
                continue
            yield from self.close_context(event)
            yield from self.one(event)
            self.previous = event
        yield from self.close_context(None)

    # -- the handling of a received message ends ---------------------------------------------------
    def close_context(self, event):
        """Before ``event``: end the current handling if ``event`` is not part of it."""
        ctx = self.context
        if ctx is None or (event is not None and self.belongs(ctx, event)):
            return
        self.context = None
        kind, m, received, answered = ctx
        if answered:
            return
        last = self.previous or received
        if kind == "request_vote":  # no vote followed: refused (PySyncObj says nothing)
            yield self.expect(last, [step("HandleRequestVoteRequest", m)], label=f"HandleRequestVoteRequest({m}) "
                              "refusing, unanswered")
        elif kind == "append_entries":  # a stale leader's: ignored (raft.tla answers it)
            yield self.expect(last, [step("HandleAppendEntriesRequest", m)],
                              label=f"HandleAppendEntriesRequest({m}) rejecting a stale leader, unanswered")

    def belongs(self, ctx, event) -> bool:
        kind, msg = event.kind, event.msg or {}
        if kind in ("term", "role"):
            return not (kind == "role" and msg.get("to") in ("candidate", "leader"))
        if ctx[0] == "request_vote":
            return kind == "send" and msg.get("type") == "response_vote"
        if ctx[0] == "append_entries":
            answered = ctx[3]
            if answered:
                return kind == "commit"
            return (kind == "log" and msg.get("type") in ("append", "truncate")) or (
                kind == "send" and msg.get("type") == "next_node_idx")
        return False

    # -- one event -----------------------------------------------------------------------------
    def one(self, event):
        kind, msg = event.kind, event.msg or {}
        handler = getattr(self, f"on_{kind}", None)
        if handler is None:
            yield self.expect(event, [], label=f"a {kind} event, which this mapping does not know")
            return
        yield from handler(event, msg)

    def on_restart(self, event, msg):
        if msg.get("first_boot"):
            yield self.expect(event, None, self.fields(event), label="the initial state")
            return
        self.free_commit = True
        yield self.expect(event, [step("Restart", self.me)], self.fields(event), label=f"Restart({self.me})")

    def on_crash(self, event, msg):
        return ()  # the restart that follows is the model's step

    def on_trace_error(self, event, msg):
        yield self.expect(event, [], label="the tracer failed here: the log is incomplete")

    def on_role(self, event, msg):
        old, new = msg.get("from"), msg.get("to")
        after_term = self.previous is not None and self.previous.kind == "term" and \
            (self.previous.msg or {}).get("voted_for") is None
        if new == "candidate":
            yield self.expect(event, [step("Timeout", self.me)], self.fields(event, ("currentTerm", "votedFor")))
        elif new == "leader":
            yield self.expect(event, [step("BecomeLeader", self.me)], self.fields(event))
        elif after_term:
            yield self.expect(event, None, self.fields(event))  # UpdateTerm already made it a follower
        elif old == "candidate" and self.context and self.context[0] == "append_entries":
            m = self.context[1]
            yield self.expect(event, [step("HandleAppendEntriesRequest", m)], self.fields(event),
                              label=f"HandleAppendEntriesRequest({m}): a candidate follows its term's leader")
        elif old == "leader":
            yield self.expect(event, [step("StepDown", self.me)], self.fields(event),
                              label=f"StepDown({self.me}): a leader no quorum answered steps down")
        else:
            yield self.expect(event, [], label=f"role {old} -> {new}, which no raft.tla step does")

    def on_term(self, event, msg):
        voted = msg.get("voted_for")
        if voted == self.node:
            if self.previous is not None and self.previous.kind == "role":
                yield self.expect(event, None, self.fields(event))  # the second half of Timeout
            else:
                yield self.expect(event, [step("Timeout", self.me)], self.fields(event))
            return
        m = self.context[1] if self.context else None
        if voted is None and m is not None:
            yield self.expect(event, [step("UpdateTerm", m)], self.fields(event, ("state",)))
        elif m is not None and self.context[0] == "request_vote":
            self.context = self.context[:3] + (True,)
            yield self.expect(event, [step("HandleRequestVoteRequest", m)], self.fields(event))
        else:
            yield self.expect(event, [], label=f"term {msg.get('term')} and vote {voted} outside any handling")

    def on_log(self, event, msg):
        kind = msg.get("type")
        if kind == "compact":
            return  # PySyncObj drops a committed prefix it keeps in a snapshot; the model keeps the entries
        if kind == "clear":
            yield self.expect(event, [], label=f"installing a snapshot: {NOT_IN_RAFT_TLA}")
            return
        if kind == "truncate":
            del self.log[max(msg["from_index"] - 2, 0):]
        elif kind == "append":
            entry = msg["entry"]
            del self.log[max(entry["index"] - 2, 0):]
            self.log.append(self.tr.entry(entry))
        if self.context is None and kind == "append":  # a leader's own entry
            value = self.tr.value(msg["entry"]["cmd"])
            yield self.expect(event, [step("ClientRequest", self.me, value)],
                              self.fields(event) + (("log", tuple(self.log)),))
        elif self.context is None:
            yield self.expect(event, [], label="a truncation outside any AppendEntries")

    def on_commit(self, event, msg):
        self.free_commit = False
        if self.context is not None or event.state.get("role") != "leader":
            yield self.expect(event, None, self.fields(event))
        else:
            yield self.expect(event, [step("AdvanceCommitIndex", self.me)], self.fields(event))

    def on_send(self, event, msg):
        kind = msg.get("type")
        if kind == "request_vote":
            m = self.tr.request_vote(msg)
            yield self.expect(event, [step("RequestVote", self.me, self.tr.name(msg["to"]))],
                              self.fields(event) + (self.mapping.sent(m),))
        elif kind == "append_entries":
            if "entries" not in msg:
                yield self.expect(event, [], label=f"sending a snapshot or a chunked entry: {NOT_IN_RAFT_TLA}")
                return
            m = self.tr.append_entries(msg)
            yield self.expect(event, [step("AppendEntries", self.me, self.tr.name(msg["to"]))],
                              self.fields(event) + (self.mapping.sent(m),))
        elif kind == "response_vote" and self.context:
            self.context = None
            yield self.expect(event, None, (self.mapping.in_flight(self.tr.response_vote(msg)),))
        elif kind == "next_node_idx" and self.context and self.context[0] == "append_entries":
            yield from self.answer(event, msg)
        elif kind in RAFT_MESSAGES:
            yield self.expect(event, [], label=f"sending {kind} outside the handling it answers")

    def answer(self, event, msg):
        """The follower's answer ends the AppendEntries step: its log is the tracked one, its answer in flight."""
        m = self.context[1]
        self.context = self.context[:3] + (True,)
        if not msg.get("success") and not msg.get("reset"):
            yield self.expect(event, [], label=f"acknowledging a chunk of an entry: {NOT_IN_RAFT_TLA}")
            return
        reply = self.tr.next_node_idx(msg, event.state["term"])
        fields = self.fields(event, ("commitIndex", "logLength", "lastTerm")) + (
            ("log", tuple(self.log)), self.mapping.in_flight(reply))
        label = f"HandleAppendEntriesRequest({m})"
        yield self.expect(event, [step("HandleAppendEntriesRequest", m)], fields,
                          helpers=frozenset({step("HandleAppendEntriesRequest", m)}), label=label)

    def on_receive(self, event, msg):
        kind = msg.get("type")
        if kind not in RAFT_MESSAGES:
            return  # forwarded commands, their answers, leadership transfer: outside raft.tla
        yield self.expect(event, None, self.fields(event), label="the state it receives in")
        if kind == "request_vote":
            self.context = ("request_vote", self.tr.request_vote(msg), event, False)
        elif kind == "append_entries":
            if "entries" not in msg:
                yield self.expect(event, [], label=f"receiving a snapshot or a chunked entry: {NOT_IN_RAFT_TLA}")
                return
            self.context = ("append_entries", self.tr.append_entries(msg), event, False)
        elif kind == "response_vote":
            m = self.tr.response_vote(msg)
            yield self.expect(event, [step("HandleRequestVoteResponse", m), step("DropStaleResponse", m)])
        else:
            yield from self.response(event, msg)

    def response(self, event, msg):
        send = self.mapping.log.event(event.link) if event.link else None
        if send is None or not isinstance(send.state, dict):
            where = f"its send {event.link[0]}#{event.link[1]} is not in the log" if event.link else "no link"
            yield self.expect(event, [], label=f"a next_node_idx whose term is unknown ({where}; it carries no "
                                               "term: a mapping limit)")
            return
        m = self.tr.next_node_idx(msg, send.state["term"])
        yield self.expect(event, [step("HandleAppendEntriesResponse", m), step("DropStaleResponse", m)])
