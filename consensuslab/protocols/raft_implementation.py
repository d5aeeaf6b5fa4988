"""Raft as implementations run it: parameters of ``raft.Raft`` that refine raft.tla's replication, off by default.

raft.tla sends at most one entry per AppendEntries, moves nextIndex only on a
response and walks it back one entry per rejection, and never deposes a
leader without a higher term.  Implementations (PySyncObj, etcd's raft, ...)
do what the paper allows instead, and a log of one is explained only by a
model that may do the same:

* ``batch`` N > 1: an AppendEntries carries up to N entries from nextIndex, and
  a follower takes them in one step (the paper's rule: delete a conflicting
  entry and all that follow, append the new ones; no entry it has is removed
  unless it conflicts), answering in the same step;
* ``pipeline``: a leader advances nextIndex past what it sent without waiting
  (more AppendEntries in flight), sends its whole commitIndex and lets the
  follower clamp it (commitIndex := min(leaderCommit, index of the last new
  entry) when that is higher, after clamping its own to its log), counts a
  response only when it raises matchIndex, sends a heartbeat whatever it
  knows, and may send a message that is already in flight (another copy);
* ``hint``: a rejection carries where the follower's log can match (its length
  when it lacks the previous entry, one before the previous entry when that
  entry's term differs), and the leader jumps nextIndex there;
* ``step_down``: a leader may become a follower in its own term (a
  check-quorum timeout: PySyncObj's leaderFallbackTimeout).

Each keeps election safety and the log properties (the checker confirms it
within bounds); none changes a state or a count of the default model.
"""

from __future__ import annotations

from consensuslab.models.records import replace_at
from consensuslab.models.spec import action
from consensuslab.protocols.raft_log import AppendEntriesRequest, AppendEntriesResponse, reply, without_message

FOLLOWER, LEADER = "Follower", "Leader"


class ImplementationLevel:
    """The refinements above, as a mixin of ``raft.Raft`` (uses its ``index``, ``message``, ``send``, ``retire``)."""

    def refined(self) -> bool:
        """Whether replication follows the implementation-level rules (batches or pipelining)."""
        return self.batch > 1 or self.pipeline

    @action(i="Server", by="i")
    def StepDown(self, s, i):
        """Leader i becomes a follower in its own term (``step_down``: a check-quorum timeout)."""
        k = self.index[i]
        if not self.step_down or s.state[k] != LEADER:
            return None
        return self.retire(s, k)._replace(state=replace_at(s.state, k, FOLLOWER))

    def replicate(self, s, k: int, i: str, j: str):
        """Leader i sends j up to ``batch`` entries from nextIndex (and, pipelining, moves nextIndex past them)."""
        log, jj = s.log[k], self.index[j]
        nxt = s.nextIndex[k][jj]
        if not self.pipeline and nxt > len(log) and s.matchIndex[k][jj] == len(log) and not s.commitIndex[k]:
            return None  # raft.tla's abstraction: a heartbeat that can tell j nothing
        prev = nxt - 1
        entries = log[prev:prev + self.batch]
        last = prev + len(entries) if entries else min(len(log), nxt)
        commit = s.commitIndex[k] if self.pipeline else min(s.commitIndex[k], last)
        m = self.message(AppendEntriesRequest, s.currentTerm[k], prev, log[prev - 1][0] if prev > 0 else 0,
                         entries, commit, i, j)
        out = self.send(s, m)
        if out is None or not self.pipeline or not entries:
            return out
        return out._replace(nextIndex=replace_at(out.nextIndex, k, replace_at(out.nextIndex[k], jj, last + 1)))

    def rejected_match(self, log: tuple, m) -> int:
        """The mmatchIndex of a rejection: 0, or (``hint``) where the follower's log can match."""
        if not self.hint:
            return 0
        return len(log) if m.mprevLogIndex > len(log) else max(m.mprevLogIndex - 1, 0)

    def accept(self, s, i: int, j: str, m):
        """Follower i takes a logOk AppendEntries whole: the paper's append rule, commit rule, and its answer."""
        log, prev, entries = s.log[i], m.mprevLogIndex, m.mentries
        ours = log[prev:prev + len(entries)]
        if ours != entries:  # a conflict, or entries it lacks: keep the prefix, then the leader's entries
            log = log[:prev] + entries
        commit = s.commitIndex[i]
        if self.pipeline:
            commit = min(commit, len(log))
            if m.mcommitIndex > commit:
                commit = min(m.mcommitIndex, prev + len(entries))
        else:
            commit = m.mcommitIndex
        ok = self.message(AppendEntriesResponse, s.currentTerm[i], True, prev + len(entries), m.mdest, j)
        committed = self.applied(s, i, log, commit) if commit > s.commitIndex[i] else s.committed
        return s._replace(log=replace_at(s.log, i, log), commitIndex=replace_at(s.commitIndex, i, commit),
                          committed=committed, messages=reply(ok, m, s.messages))

    def count_response(self, s, i: int, jj: int, m):
        """Leader i takes j's answer, pipelining (only a higher matchIndex counts) or with a hint."""
        match, nxt = s.matchIndex[i], s.nextIndex[i]
        if m.msuccess:
            if not self.pipeline or m.mmatchIndex > match[jj]:
                match = replace_at(match, jj, m.mmatchIndex)
                nxt = replace_at(nxt, jj, m.mmatchIndex + 1)
        elif self.hint:
            nxt = replace_at(nxt, jj, m.mmatchIndex + 1)
        else:
            nxt = replace_at(nxt, jj, max(nxt[jj] - 1, 1))
        return s._replace(matchIndex=replace_at(s.matchIndex, i, match), nextIndex=replace_at(s.nextIndex, i, nxt),
                          messages=without_message(m, s.messages))
