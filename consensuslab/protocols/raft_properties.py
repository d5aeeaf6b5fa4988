"""Raft's properties (Figure 3 of the paper), as a mixin of ``raft.Raft``: its states are raft.tla's variables.

Kept apart so that ``raft.py`` holds the spec's actions; these are the claims
checked against them, and the ghost ``committed`` history they read.
"""

from __future__ import annotations

from consensuslab.models.properties import always, always_step, eventually, sometimes
from consensuslab.protocols.raft_receive import LEADER


class RaftProperties:
    @always
    def election_safety(self, s):
        """At most one leader in each term."""
        terms = [t for t, st in zip(s.currentTerm, s.state) if st == LEADER]
        return len(terms) == len(set(terms))

    @always
    def log_matching(self, s):
        """Two logs with an entry of the same index and term are identical up to that index."""
        logs = s.log
        for a in range(len(logs)):
            for b in range(a + 1, len(logs)):
                x, y = logs[a], logs[b]
                for k in range(min(len(x), len(y)) - 1, -1, -1):
                    if x[k][0] == y[k][0]:
                        if x[:k + 1] != y[:k + 1]:
                            return False
                        break
        return True

    @always
    def leader_completeness(self, s):
        """An entry applied in some term is in the log of every leader of a later term."""
        for index, term, value, when in s.committed:
            for k, st in enumerate(s.state):
                if st == LEADER and s.currentTerm[k] > when:
                    log = s.log[k]
                    if len(log) < index or log[index - 1] != (term, value):
                        return False
        return True

    @always
    def state_machine_safety(self, s):
        """No two servers ever apply different entries at the same index."""
        seen = {}
        for index, term, value, _ in s.committed:
            if seen.setdefault(index, (term, value)) != (term, value):
                return False
        return True

    @always_step
    def committed_entries_immutable(self, before, act, after):
        """A server's log never changes at or below its commitIndex."""
        for k, c in enumerate(before.commitIndex):
            if c and after.log[k] is not before.log[k] and after.log[k][:c] != before.log[k][:c]:
                return False
        return True

    @eventually
    def leader_eventually(self, s):
        """Liveness: some server is eventually leader."""
        return LEADER in s.state

    @sometimes
    def leader_elected(self, s):
        """Some server becomes leader."""
        return LEADER in s.state

    @sometimes
    def entry_committed(self, s):
        """Some entry is committed."""
        return bool(s.committed)
