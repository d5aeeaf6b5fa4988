"""Raft's counterexamples read in Raft's terms: leaders per term, commits, and the two that conflict.

A mixin of ``raft.Raft`` providing the ``explain`` hook every renderer calls
(``render/explain.py``).  It reads the replayed states only: who became leader
of which term at which step, which entry each server committed (advanced its
commitIndex over) in which term and on whose replicas, where a server's log
lost an entry it had committed, and, for Figure 8, which rule was broken.
"""

from __future__ import annotations

from consensuslab.protocols.raft_receive import LEADER


def _entry(term: int, value) -> str:
    return f"<term {term}, value {value}>"


class Explaining:
    """``explain(trace, violation)``: lines for every renderer (see the module)."""

    def explain(self, trace, violation=None) -> list[str]:
        states, lines = trace.states, []
        leaders: dict[int, list] = {}
        for k in range(1, len(states)):
            before, after = states[k - 1], states[k]
            for i, server in enumerate(self.Server):
                if after.state[i] == LEADER and before.state[i] != LEADER:
                    leaders.setdefault(after.currentTerm[i], []).append((server, k))
        if leaders:
            lines.append("leaders by term: " + ", ".join(
                f"term {t} {' and '.join(f'{s} (step {k})' for s, k in who)}" for t, who in sorted(leaders.items())))
            lines.extend(f"two leaders in term {t}: {', '.join(s for s, _ in who)}"
                         for t, who in sorted(leaders.items()) if len({s for s, _ in who}) > 1)
        else:
            lines.append(self._no_leader(trace))
        commits = self._commits(trace)
        for k, server, role, index, term, value, when, holders in commits:
            how = (f"as leader of term {when}, counting replicas on {', '.join(holders)}" if role == LEADER
                   else f"told by its leader, in term {when}")
            old = f" (an entry of term {term}, not of its own term {when})" if role == LEADER and term != when else ""
            lines.append(f"step {k}: {server} committed index {index} = {_entry(term, value)} {how}{old}")
        lines.extend(self._conflicts(commits))
        lines.extend(self._lost(trace))
        if any(role == LEADER and term != when for _, _, role, _, term, _, when, _ in commits):
            lines.append("Raft commits an entry of an earlier term only through one of the leader's own term "
                         "(section 5.4.2, Figure 8); counting replicas of an old entry lets a later leader "
                         "that lacks it overwrite it")
        return lines

    def _no_leader(self, trace) -> str:
        """Why no election finished: the candidacies, and the votes the network lost."""
        runs = [f"{a.args[0]} (step {k})" for k, (a, _) in enumerate(trace.steps, start=1) if a.name == "Timeout"]
        lost = sum(1 for a in trace.actions if a.name == "DropMessage")
        return (f"no server became leader: candidacies {', '.join(runs) or 'none'} never gathered {self.q} votes"
                + (f"; the network dropped {lost} message(s)" if lost else "")
                + (f"; the steps from {trace.loop + 1} on repeat for ever" if trace.loop is not None else ""))

    def _commits(self, trace) -> list[tuple]:
        """(step, server, its role, index, term, value, its term then, servers holding the entry) per commit."""
        out = []
        states = trace.states
        for k in range(1, len(states)):
            before, after = states[k - 1], states[k]
            for i, server in enumerate(self.Server):
                for index in range(before.commitIndex[i] + 1, after.commitIndex[i] + 1):
                    if index > len(after.log[i]):
                        continue
                    term, value = after.log[i][index - 1]
                    holders = [s for j, s in enumerate(self.Server)
                               if len(after.log[j]) >= index and after.log[j][index - 1] == (term, value)
                               and (j == i or after.matchIndex[i][j] >= index)]
                    out.append((k, server, after.state[i], index, term, value, after.currentTerm[i], holders))
        return out

    def _conflicts(self, commits) -> list[str]:
        first: dict[int, tuple] = {}
        lines = []
        for k, server, _, index, term, value, when, _ in commits:
            seen = first.setdefault(index, (k, server, term, value, when))
            if (seen[2], seen[3]) != (term, value):
                lines.append(f"conflict at index {index}: {seen[1]} committed {_entry(seen[2], seen[3])} in term "
                             f"{seen[4]} (step {seen[0]}), {server} committed {_entry(term, value)} in term {when} "
                             f"(step {k})")
        return lines

    def _lost(self, trace) -> list[str]:
        """Steps where a server's log lost or changed an entry at or below its commitIndex."""
        lines, states = [], trace.states
        for k in range(1, len(states)):
            before, after = states[k - 1], states[k]
            for i, server in enumerate(self.Server):
                c, old, new = min(before.commitIndex[i], len(before.log[i])), before.log[i], after.log[i]
                if c and new[:c] != old[:c]:
                    index = next(x for x in range(1, c + 1) if new[x - 1:x] != old[x - 1:x])
                    act = trace.steps[k - 1][0]
                    src = getattr(act.args[0], "msource", None) if act.args else None
                    why = f"on {src}'s AppendEntries" if src else act.name
                    lines.append(f"step {k}: {server} removed its committed index {index} "
                                 f"{_entry(*old[index - 1])} ({why}, term {after.currentTerm[i]})")
        return lines
