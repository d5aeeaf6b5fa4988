"""Actions whose domain reads the state (``\\E m \\in msgs``), as rows of the compiled action table.

Why: a spec says "receive any token in node i's bag" with a domain that reads
the state (``@action(tok=lambda self, s, i: ...)``), the way TLA+ writes
``\\E tok \\in pending(i)``.  The compiled search memoises a fixed table of
rows; such an action has no fixed rows, but the arguments its domain ever
yields are few (the tokens that can exist), and each one makes an ordinary
row: ``Name(args)`` is enabled where ``args`` is in the domain at the state and
the action returns a next state.  The guard reads what the domain reads, so the
row's memo key holds those bits.

The rows are the arguments seen so far.  Each level is first checked for
*coverage*, before it is expanded: a memoised property per action, true where
every argument its domain yields has a row.  Where it fails, rows for the new
arguments join the table there and then (``CompiledSearch.add_rows``), with no
restart: every earlier level passed the check, so no earlier state had those
arguments in its domain, and each new row is disabled on every state expanded
before.  The initial states seed the rows.  Counts and counterexamples are the
interpreted search's: the rows are ordered as its successors are (by action
label), and every audit compares the rows' steps with the model's own
``successors``.
"""

from __future__ import annotations

from typing import Any, Callable

from consensuslab.checkers.compiled.packing import Unsupported


class StateDomains:
    """The per-state actions of a spec model, and the argument tuples met so far (kept across restarts)."""

    def __init__(self, model):
        self.model = model
        self.declared = list(getattr(model, "_per_state", ()))
        for d in self.declared:
            if d.branched:
                raise Unsupported(f"action {d.name} yields several next states and its domain reads the state: "
                                  f"the interpreted search runs it")
        self.known: dict[str, dict[tuple, None]] = {d.name: {} for d in self.declared}  # ordered sets
        #: rows keep only steps within the state constraint (False: the search filters steps itself)
        self.constrained = True
        self.guards = {d.name: _guarded(d) for d in self.declared}  # one per action, shared by its rows

    def __bool__(self) -> bool:
        return bool(self.declared)

    def seed(self, states: list) -> None:
        """The arguments of the initial states."""
        for state in states:
            self.add(state)

    def add(self, state) -> list[tuple[Any, Callable, tuple]]:
        """Rows for the arguments ``state``'s domains yield that have none yet (see ``rows``)."""
        new = []
        for d in self.declared:
            known = self.known[d.name]
            args = d.arguments(state)
            if len(set(args)) != len(args):
                raise Unsupported(f"the domain of action {d.name} lists an argument twice: the interpreted "
                                  f"search runs it (each listing is one step there)")
            for a in args:
                if a not in known:
                    known[a] = None
                    new.append(self._row(d, a))
        return new

    def rows(self) -> list[tuple[Any, Callable, tuple]]:
        """``(label, function, arguments)`` per known argument tuple: the function is the action guarded by its
        domain (and the state constraint, as the model's rows are)."""
        return [self._row(d, args) for d in self.declared for args in self.known[d.name]]

    def _row(self, d, args: tuple) -> tuple[Any, Callable, tuple]:
        label = d.label(args)
        fn = self.guards[d.name]
        if self.model._constraints and self.constrained:
            fn = self.model._constrained(label, fn)
        return label, fn, args

    def coverage(self) -> list[tuple[str, Callable]]:
        """``(name, property)`` per action: every argument its domain yields at the state has a row."""
        return [(f"arguments of {d.name}", _covered(d, self.known[d.name])) for d in self.declared]


def _guarded(d) -> Callable:
    """The action, disabled where its arguments are not in its domain at the state.

    A real state's domain is computed once for all the action's rows: pieces called directly (``direct.py``)
    and audits call every row on one decoded state in turn (EWD998: its token domains were recomputed per
    row, about 1 ms a state).  A view's is computed each time, so that each trace records the domain's reads.
    """
    fn, arguments = d.fn, d.arguments
    last: list = [None, frozenset()]  # the last real state (held, so ``is`` cannot match another) and its domain

    def step(state, *args):
        if not isinstance(state, tuple):  # a view (``views.StateView``)
            return fn(state, *args) if args in arguments(state) else None
        if state is not last[0]:
            last[1] = frozenset(arguments(state))
            last[0] = state
        return fn(state, *args) if args in last[1] else None

    step.__name__ = d.name
    return step


def _covered(d, known: dict) -> Callable:
    arguments = d.arguments

    def covered(state) -> bool:
        return all(a in known for a in arguments(state))

    covered.__name__ = f"{d.name}_arguments"
    return covered
