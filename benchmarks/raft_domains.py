"""Raft with its message actions written as raft.tla writes them: one action per kind of receipt, over the
messages in flight (``\\E m \\in DOMAIN messages : Receive(m)``, ``DuplicateMessage(m)``, ``DropMessage(m)``).

The bundled ``raft`` lists those steps itself (``message_steps``, read by its own model), which the compiled
engine cannot take; here they are ordinary spec actions whose argument's domain reads the state, the way a
user transcribing raft.tla would write them, and everything else is the bundled protocol.  Same labels, same
counts (47,013 states on the default bounds; ``tests/checkers/compiled/test_keyindex.py`` pins the tiny
scenario's 3,599 on both engines).

What it measures: a spec whose message bag is one set field read by a row per message (318 action groups on
the default bounds), each row's key nearly the whole state.  The compiled search traces about every state and
answers in about ten times the interpreted search's time; under ``auto`` the race answers with the
interpreted search.

    consensuslab check benchmarks/raft_domains.py                      # auto: the interpreted search answers
    consensuslab check benchmarks/raft_domains.py --engine compiled --json
    python benchmarks/bench_speed.py --only raft-domains
"""

from __future__ import annotations

from consensuslab import action
from consensuslab.models.spec import SpecModel
from consensuslab.protocols.raft import Raft
from consensuslab.protocols.raft_log import copies, with_message, without_message


def in_flight(spec, s):
    """``DOMAIN messages``: the bag holds ``(message, copies)`` pairs."""
    return [m for m, _ in s.messages]


class RaftDomains(Raft):
    name = "raft-domains"
    summary = "raft.tla's receipts as actions over the messages in flight (the bundled raft's own steps otherwise)"

    def compile(self):
        return SpecModel(self)  # the plain action table: no role dispatch, no message_steps

    def received(self, s, m, name: str):
        """The state after receiving ``m`` where that receipt is the action ``name`` (raft.tla's ``Receive(m)``
        is a disjunction of them, each with its own guard)."""
        got = self.receive(s, m)
        if got is not None and got[0] == name:
            return got[1]
        return None

    @action(m=in_flight)
    def UpdateTerm(self, s, m):
        return self.received(s, m, "UpdateTerm")

    @action(m=in_flight)
    def HandleRequestVoteRequest(self, s, m):
        return self.received(s, m, "HandleRequestVoteRequest")

    @action(m=in_flight)
    def HandleRequestVoteResponse(self, s, m):
        return self.received(s, m, "HandleRequestVoteResponse")

    @action(m=in_flight)
    def HandleAppendEntriesRequest(self, s, m):
        return self.received(s, m, "HandleAppendEntriesRequest")

    @action(m=in_flight)
    def HandleAppendEntriesResponse(self, s, m):
        return self.received(s, m, "HandleAppendEntriesResponse")

    @action(m=in_flight)
    def DropStaleResponse(self, s, m):
        return self.received(s, m, "DropStaleResponse")

    @action(m=in_flight)
    def DuplicateMessage(self, s, m):
        if copies(s.messages, m) < self.max_copies and self.room(s):
            return s._replace(messages=with_message(m, s.messages))
        return None

    @action(m=in_flight)
    def DropMessage(self, s, m):
        if self.drop:
            return s._replace(messages=without_message(m, s.messages))
        return None
