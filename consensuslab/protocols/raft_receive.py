"""Raft's ``Receive(m)``: a message in the bag handled by its destination, labelled by the handler that fires.

A mixin of ``raft.Raft`` (it uses the spec's ``index``, ``message``, ``retire``,
``applied``, ``room`` and bounds), kept apart because receiving is one part of
raft.tla with its own five handlers: UpdateTerm, HandleRequestVoteRequest,
HandleRequestVoteResponse, HandleAppendEntriesRequest,
HandleAppendEntriesResponse, and DropStaleResponse; plus the network's
DuplicateMessage and DropMessage.
"""

from __future__ import annotations

from consensuslab.models.records import replace_at
from consensuslab.protocols.raft_log import (
    AppendEntriesRequest,
    AppendEntriesResponse,
    RequestVoteRequest,
    RequestVoteResponse,
    last_term,
    reply,
    with_message,
    without_message,
)

FOLLOWER, CANDIDATE, LEADER = "Follower", "Candidate", "Leader"
NIL = "Nil"


class Receiving:
    """The message steps of a state: receipt by the destination, duplication, loss."""

    def message_steps(self, s):
        out = []
        for m, k in s.messages:
            out.extend(self.steps_of(s, m, k))
        return out

    def steps_of(self, s, m, k):
        """The steps of one message ``m`` in flight in ``k`` copies: its receipt, a copy, its loss."""
        out = []
        got = self.receive(s, m)
        if got is not None:
            out.append((got[0], m, got[1]))
        if k < self.max_copies and self.room(s):
            out.append(("DuplicateMessage", m, s._replace(messages=with_message(m, s.messages))))
        if self.drop:
            out.append(("DropMessage", m, s._replace(messages=without_message(m, s.messages))))
        return out

    def receive(self, s, m):
        i, j = self.index[m.mdest], m.msource
        term = s.currentTerm[i]
        if m.mterm > term:
            s = self.retire(s, i)
            return "UpdateTerm", s._replace(currentTerm=replace_at(s.currentTerm, i, m.mterm),
                                            state=replace_at(s.state, i, FOLLOWER),
                                            votedFor=replace_at(s.votedFor, i, NIL))
        kind = type(m)
        if kind is RequestVoteRequest:
            return "HandleRequestVoteRequest", self.handle_request_vote_request(s, i, j, m)
        if m.mterm < term:
            if kind is AppendEntriesRequest:
                return "HandleAppendEntriesRequest", self.handle_append_entries_request(s, i, j, m)
            return "DropStaleResponse", s._replace(messages=without_message(m, s.messages))
        if kind is RequestVoteResponse:
            if s.state[i] != CANDIDATE:  # tallies only a candidate reads (see retire)
                return "HandleRequestVoteResponse", s._replace(messages=without_message(m, s.messages))
            granted = s.votesGranted[i] | {j} if m.mvoteGranted else s.votesGranted[i]
            return "HandleRequestVoteResponse", s._replace(
                votesResponded=replace_at(s.votesResponded, i, s.votesResponded[i] | {j}),
                votesGranted=replace_at(s.votesGranted, i, granted),
                messages=without_message(m, s.messages))
        if kind is AppendEntriesRequest:
            nxt = self.handle_append_entries_request(s, i, j, m)
            return None if nxt is None else ("HandleAppendEntriesRequest", nxt)
        return "HandleAppendEntriesResponse", self.handle_append_entries_response(s, i, j, m)

    def handle_request_vote_request(self, s, i, j, m):
        """Grant if the terms match, i has not voted for another, and j's log is at least as up to date."""
        log = s.log[i]
        log_ok = m.mlastLogTerm > last_term(log) or (m.mlastLogTerm == last_term(log)
                                                     and m.mlastLogIndex >= len(log))
        grant = m.mterm == s.currentTerm[i] and log_ok and s.votedFor[i] in (NIL, j)
        response = self.message(RequestVoteResponse, s.currentTerm[i], grant, m.mdest, j)
        voted = replace_at(s.votedFor, i, j) if grant else s.votedFor
        return s._replace(votedFor=voted, messages=reply(response, m, s.messages))

    def handle_append_entries_request(self, s, i, j, m):
        """Reject, step down (a candidate), or accept: done / remove a conflicting entry / append."""
        log, term, me = s.log[i], s.currentTerm[i], m.mdest
        log_ok = m.mprevLogIndex == 0 or (m.mprevLogIndex <= len(log)
                                          and m.mprevLogTerm == log[m.mprevLogIndex - 1][0])
        if m.mterm < term or (s.state[i] == FOLLOWER and not log_ok):
            no = self.message(AppendEntriesResponse, term, False, self.rejected_match(log, m), me, j)
            return s._replace(messages=reply(no, m, s.messages))
        if s.state[i] == CANDIDATE:
            return self.retire(s, i)._replace(state=replace_at(s.state, i, FOLLOWER))
        if s.state[i] != FOLLOWER:
            return None  # a leader never hears from another leader of its term
        if self.refined():
            return self.accept(s, i, j, m)
        index = m.mprevLogIndex + 1
        if not m.mentries or (len(log) >= index and log[index - 1][0] == m.mentries[0][0]):
            ok = self.message(AppendEntriesResponse, term, True, m.mprevLogIndex + len(m.mentries), me, j)
            return s._replace(commitIndex=replace_at(s.commitIndex, i, m.mcommitIndex),
                              committed=self.applied(s, i, log, m.mcommitIndex),
                              messages=reply(ok, m, s.messages))
        if len(log) >= index:  # conflict: remove the last entry; m stays to be received again
            return s._replace(log=replace_at(s.log, i, log[:-1]))
        if len(log) == m.mprevLogIndex:  # no conflict: append; m stays to be received again
            return s._replace(log=replace_at(s.log, i, log + m.mentries))
        return None

    def handle_append_entries_response(self, s, i, j, m):
        """Leader i learns how far j's log matches its own, or backs nextIndex off by one."""
        jj = self.index[j]
        if s.state[i] != LEADER:  # nextIndex/matchIndex are dead outside the leader (see retire)
            return s._replace(messages=without_message(m, s.messages))
        if self.pipeline or self.hint:
            return self.count_response(s, i, jj, m)
        if m.msuccess:
            nxt = replace_at(s.nextIndex[i], jj, m.mmatchIndex + 1)
            s = s._replace(matchIndex=replace_at(s.matchIndex, i, replace_at(s.matchIndex[i], jj, m.mmatchIndex)))
        else:
            nxt = replace_at(s.nextIndex[i], jj, max(s.nextIndex[i][jj] - 1, 1))
        return s._replace(nextIndex=replace_at(s.nextIndex, i, nxt), messages=without_message(m, s.messages))
