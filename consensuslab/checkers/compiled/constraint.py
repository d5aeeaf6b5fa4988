"""A spec's state constraint in the level search: a filter on steps, memoised on the successor's bits it reads.

Why: ``SpecModel`` folds the constraint into every action (a row returns no
next state where the constraint fails), and a traced row then reads every bit
the constraint reads, of the successor's unchanged fields too.
LamportMutex's ``ClockConstraint`` reads every clock, so ReceiveRequest's key
held the whole state (80 bits of 80) and was new on almost every state.  Here
the rows are the spec's actions alone, and each step's successor is looked up
in one more memo, the constraint's, keyed on the successor's bits it reads
(the nine bits of three clocks).

TLC keeps a successor outside the constraint where it breaks a property
(``SpecModel._escapes``).  One that breaks an invariant is judged, after its
level is expanded, by the invariant groups (``levels.escaping``) and joins
the next level, where the search stops at it; a step that breaks a
transition property is found at its parent, as every step is: the step
units run the actions without the constraint.  The counts stay the
interpreted search's: a step the constraint drops is not counted.
"""

from __future__ import annotations

import numpy as np

from consensuslab.checkers.compiled.filling import tables_for, trace_missing
from consensuslab.checkers.compiled.kernels import Tables, with_origin
from consensuslab.checkers.compiled.memo import Group, Unit
from consensuslab.checkers.compiled.packing import Overflow, Reshape, Unsupported
from consensuslab.checkers.compiled.words import sort_states, to_ints
from consensuslab.checkers.search.limits import STOPS


class StateConstraint:
    """The constraint of ``model`` as one memoised property of a successor, and the steps it keeps."""

    def __init__(self, model, layout, twin, grown: list):
        traced = [twin.method(c) for c in model._constraints]

        def on_view(view) -> bool:
            return all(c(view) for c in traced)

        self.model, self.layout = model, layout
        self.unit = Unit("state constraint", model.within, (), "state constraint", False, layout, on_view)
        self.group = Group([self.unit], layout.full, grown)
        #: the successors outside the constraint kept because they break an invariant (packed ints)
        self.escaped: set[int] = set()

    def evaluate(self, s: int) -> None:
        """The memo entry for successor ``s``; a constraint that raises hands the spec to the interpreted search."""
        try:
            self.group.miss(s)
        except (Overflow, Reshape, Unsupported, *STOPS):
            raise
        except Exception as exc:
            raise Unsupported(f"the state constraint raised {type(exc).__name__} on a successor: the interpreted "
                              f"search runs it") from None

    def keeps(self, s: int, label, nxt: int) -> bool:
        """Whether the step from ``s`` to ``nxt`` is one of ``model.successors`` (for the audits)."""
        group = self.group
        inside = group.table.get(nxt & group.mask)
        if inside is None:
            self.evaluate(nxt)
            inside = group.table[nxt & group.mask]
        if inside:
            return True
        decode = self.layout.decode
        return self.model._escapes(decode(s), label, decode(nxt))

    def fill_successors(self, search, states: np.ndarray, tables: list[Tables]) -> None:
        """Trace the constraint on the successors of ``states`` whose keys it lacks (of the states whose action
        keys are all known: the others are deferred again, and come back)."""
        for t in tables:
            states = states[t.index.rows(states) >= 0] if len(states) else states
        found = with_origin(states, tables) if len(states) else []
        if found:
            trace_missing(search, self.group, sort_states(np.concatenate([f[0] for f in found])))

    def kept(self, search, succ: np.ndarray, parents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The steps (successors, parents) the interpreted search takes: inside the constraint, or escaped."""
        if not len(succ):
            return succ, parents
        table = tables_for(search, [self.group])[0]
        rows = table.index.rows(succ)
        if rows.min() < 0:
            trace_missing(search, self.group, sort_states(succ[rows < 0]))
            table = tables_for(search, [self.group])[0]
            rows = table.index.rows(succ)
        inside = table.ok[rows].view(bool)
        if not inside.all() and self.escaped:
            out = np.flatnonzero(~inside)
            inside[out] = [x in self.escaped for x in to_ints(succ[out])]
        return succ[inside], parents[inside]
