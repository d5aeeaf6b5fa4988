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

A domain over a set field (``s.msgs``, or the elements of ``s.msgs`` that pass
conditions) is tested by membership instead (``membership.py``): its rows are
made for every element the field has numbered, before each level, so no
coverage check reads the whole set, and each row's guard reads one element's
bit.

An action that yields several next states without declaring them (or with a
domain that reads the state) gets a row per step met, ``Name(args..., branch)``:
its branches are known only by running it.  Its coverage check is per argument
tuple (per element, for a domain tested by membership), so that it reads what
the action reads for those arguments.
"""

from __future__ import annotations

from typing import Any, Callable

from consensuslab.checkers.compiled.branch_order import view_order
from consensuslab.checkers.compiled.membership import member_domain
from consensuslab.checkers.compiled.packing import SET, Unsupported
from consensuslab.checkers.compiled.view_values import is_view
from consensuslab.checkers.compiled.views import Reads, StateView
from consensuslab.models.spec_table import RUNS_KEPT

#: states on which a membership test is compared with the listed domain before the search trusts it
CONFIRMED_STATES = 50
#: initial states whose arguments seed the rows
SEEDED = 2000
#: a branched action whose domain may take more elements has one check for all (each check is a table look-up
#: per state and level)
PER_ELEMENT_CHECKS = 128


class StateDomains:
    """The per-state actions of a spec model, and the argument tuples met so far (kept across restarts)."""

    def __init__(self, model):
        self.model = model
        self.declared = list(getattr(model, "_per_state", ()))
        self.known: dict[str, dict[tuple, None]] = {d.name: {} for d in self.declared}  # ordered sets
        #: rows keep only steps within the state constraint (False: the search filters steps itself)
        self.constrained = True
        #: per action whose every state-reading domain is a set field's elements: each parameter's ``Member``
        self.members = {d.name: m for d in self.declared if (m := _members(d)) is not None}
        self.eager: dict[str, list] = {}  # those whose fields the layout packs as sets: their fields
        self.tested_branches: dict[str, list] = {}  # ... the branched ones among them (no eager rows)
        self.elements_grew = False
        self.guards = {d.name: (_branch_guarded if d.branched else _guarded)(d) for d in self.declared}  # per action
        self.view_guards: dict[str, Callable] = {}  # the same on views (``bind``)
        #: per eager action, the argument tuples its conditions rule out on every state (no row for them)
        self.ruled_out: dict[str, set] = {}
        self.layout = None
        self.by_name = {d.name: d for d in self.declared}
        self._sizes: dict[str, tuple] = {}

    def __bool__(self) -> bool:
        return bool(self.declared)

    def bind(self, layout, twin=None) -> None:
        """Which actions get rows for every numbered element of their fields under ``layout`` (set fields only;
        the others list their domains per state, as before); ``twin``: the spec's methods with filtered iteration
        (``filtering.TracedSpec``), which the rows run on views."""
        self.eager, self.layout = {}, layout
        tested = {}  # the actions whose state-reading domains are all set fields under ``layout``: their fields
        for d in self.declared:
            members = self.members.get(d.name)
            if members is None:
                continue
            fields = [None if m is None else layout.by_name.get(m.field) for m in members]
            if all(m is None or (f is not None and f.kind == SET) for m, f in zip(members, fields)):
                tested[d.name] = fields
        # a branched action's rows are its steps, met as the search goes: its branches are not known ahead, so
        # each element its domain may take gets a check that its branches have rows (``coverage``)
        self.eager = {name: fields for name, fields in tested.items() if not self.by_name[name].branched}
        self.tested_branches = {name: fields for name, fields in tested.items() if name not in self.eager}
        self.elements_grew = False
        self.guards, self.view_guards = {}, {}
        for d in self.declared:
            on_views = twin.method(d.fn) if twin is not None else d.fn
            if d.name in self.eager:
                members = self.members[d.name]
                self.guards[d.name] = _member_guarded(d, members)
                self.view_guards[d.name] = _member_guarded(d, members, on_views)
            elif d.branched:
                in_domain = _member_guarded(d, self.members[d.name], _enabled) if d.name in tested else None
                self.guards[d.name] = _branch_guarded(d)
                self.view_guards[d.name] = _branch_guarded(d, on_views, in_domain)
            else:
                self.guards[d.name] = _guarded(d)
                self.view_guards[d.name] = _guarded(d, on_views)
        self._sizes = {}

    def view_fn(self, label) -> Callable | None:
        """What the row ``label`` runs on views: its action as the spec's twin has it (filtered iteration)."""
        d = self.by_name.get(label.name)
        if d is None or d.name not in self.view_guards:
            return None
        return self._within_constraint(label, self.view_guards[d.name])

    def seed(self, states: list) -> None:
        """The arguments of the first initial states (and the membership tests confirmed on them); the first
        level's coverage check finds the others' (``coverage.py``).  Not all of them: an ``init``
        that enumerates every state satisfying an invariant (Bakery's ``ISpec``: 655,200) had each branched
        action run on each one in Python before the search began (the compiled run: 34.1 s, 28.6 s seeded
        from 2,000; one run each)."""
        self.confirm(states)
        for state in states[:SEEDED]:
            self.add(state)

    def confirm(self, states: list) -> None:
        """Drop the membership test of an action where it disagrees with the listed domain on one of the first
        ``CONFIRMED_STATES`` of ``states`` (a spec the recognised forms misread keeps the listing)."""
        for d in self.declared:
            members = self.members.get(d.name)
            if members is None:
                continue
            test = _member_guarded(d, members, _enabled)
            first = states[:CONFIRMED_STATES]
            # every element these states hold, so that a test accepting an element absent from a state is caught
            elements = [None if m is None else list(dict.fromkeys(e for state in first
                                                                  for e in getattr(state, m.field, None) or ()))
                        for m in members]
            for state in first:
                listed = d.arguments(state)
                if (any(test(state, *args) is None for args in listed)
                        or not _closed(test, state, listed, _candidates(d, elements))):
                    del self.members[d.name]
                    break

    def add(self, state) -> list[tuple[Any, Callable, tuple]]:
        """Rows for the arguments ``state``'s domains yield that have none yet (see ``rows``)."""
        new = []
        for d in self.declared:
            if d.name in self.eager:
                continue
            known = self.known[d.name]
            args = d.row_arguments(state)
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
        self.grow()
        return [self._row(d, args) for d in self.declared for args in self.known[d.name]]

    def grow(self) -> list[tuple[Any, Callable, tuple]]:
        """Rows for the elements the eager actions' set fields numbered since the last call (and
        ``elements_grew``: whether a branched action's domain may take elements it has no check for)."""
        new = []
        self.elements_grew = False
        for name, fields in self.tested_branches.items():
            sizes = tuple(0 if f is None else len(f.interner) for f in fields)
            if self._sizes.get(name) != sizes:
                self._sizes[name] = sizes
                self.elements_grew = True
        for d in self.declared:
            fields = self.eager.get(d.name)
            if fields is None:
                continue
            sizes = tuple(0 if f is None else len(f.interner) for f in fields)
            if self._sizes.get(d.name) == sizes:
                continue
            self._sizes[d.name] = sizes
            known, ruled_out = self.known[d.name], self.ruled_out.setdefault(d.name, set())
            test = _member_guarded(d, self.members[d.name], _enabled)
            for args in _candidates(d, [None if f is None else list(f.interner.values) for f in fields]):
                if args in known or args in ruled_out:
                    continue
                if _never(test, self.layout, args):
                    ruled_out.add(args)
                else:
                    known[args] = None
                    new.append(self._row(d, args))
        return new

    def _row(self, d, args: tuple) -> tuple[Any, Callable, tuple]:
        label = d.label(args)
        return label, self._within_constraint(label, self.guards[d.name]), args

    def _within_constraint(self, label, fn: Callable) -> Callable:
        """``fn`` keeping only the steps within the state constraint, as the model's rows do (unless the search
        filters steps itself)."""
        return self.model._constrained(label, fn) if self.model._constraints and self.constrained else fn

    def siblings(self, label) -> tuple | None:
        """What the rows of one branched action's branches for the same arguments share (None for another
        row): traced on one view, the action runs once for all of them (``memo.Unit.shared``)."""
        d = self.by_name.get(label.name)
        return (d.name, label.args[:-1]) if d is not None and d.branched else None

    def coverage(self) -> list[tuple[str, Callable]]:
        """``(name, property)`` per action: every argument its domain yields at the state has a row.  A branched
        action whose domains read no state has one per argument tuple instead: its branches there have rows,
        which reads what the action reads for those arguments, not what it reads for all of them (ACP_SB's
        ``parProg(i)``: one check per participant read every participant, so it missed on nearly every state)."""
        out = []
        for d in self.declared:
            if d.name in self.eager:
                continue
            known = self.known[d.name]
            fields = self.tested_branches.get(d.name)
            candidates = () if fields is None else \
                _candidates(d, [None if f is None else list(f.interner.values) for f in fields])
            if fields is not None and len(candidates) <= PER_ELEMENT_CHECKS:  # per element its domain may take
                in_domain = _member_guarded(d, self.members[d.name], _enabled)
                out += [(f"branches of {d.name}{args}", _branches_covered(d, args, known, in_domain))
                        for args in candidates]
            elif d.branched and not any(domain.reads_state for domain in d.domains):
                out += [(f"branches of {d.name}{args}", _branches_covered(d, args, known)) for args in d.arguments()]
            else:
                out.append((f"arguments of {d.name}", _covered(d, known)))
        return out


def _guarded(d, on_views: Callable | None = None) -> Callable:
    """The action, disabled where its arguments are not in its domain at the state.

    A real state's domain is computed once for all the action's rows: pieces called directly (``direct.py``)
    and audits call every row on one decoded state in turn (EWD998: its token domains were recomputed per
    row, about 1 ms a state).  A view's is computed each time, so that each trace records the domain's reads.
    """
    fn, arguments = d.fn, d.arguments
    viewed = on_views or fn
    last: list = [None, frozenset()]  # the last real state (held, so ``is`` cannot match another) and its domain

    def step(state, *args):
        if is_view(state):  # its domain computed each time, so that the trace records the domain's reads
            return viewed(state, *args) if args in arguments(state) else None
        if state is not last[0]:
            last[1] = frozenset(arguments(state))
            last[0] = state
        return fn(state, *args) if args in last[1] else None

    step.__name__ = d.name
    return step


def _branch_guarded(d, on_views: Callable | None = None, in_domain: Callable | None = None) -> Callable:
    """A row of an action that yields several next states: its arguments end with the branch (``spec_table``:
    the label's last argument), and it steps to that branch's next state.  On a real state the action runs
    once for all its rows (as ``_guarded`` lists a domain once); on a view each row runs it, so that the trace
    records what numbering the branches read (``branch_order.view_order``), and its arguments are tested by
    membership where ``in_domain`` is given (``_member_guarded``), else found in the listed domain."""
    viewed = on_views or d.fn
    last: list = [None, {}]  # the last real state (held) and its steps by arguments
    runs: dict[int, tuple] = {}  # id(view) -> (the view, held; arguments; its steps by row) (``StateDomains.siblings``)

    def on_view(view, row: tuple) -> dict:
        args = row[:-1]
        run = runs.get(id(view))
        if run is None or run[0] is not view or run[1] != args:
            if in_domain is not None and in_domain(view, *args) is None:
                steps = {}
            else:
                results = viewed(view, *args) if in_domain is not None or args in d.arguments(view) else None
                steps = {} if results is None else \
                    {label.args: nxt for label, nxt in d.branches(view, args, results, view_order)}
            if len(runs) >= RUNS_KEPT:
                runs.clear()
            runs[id(view)] = run = (view, args, steps)
        return run[2]

    def step(state, *row):
        if is_view(state):
            return on_view(state, row).get(row)
        if state is not last[0] and state != last[0]:  # each row's trace is confirmed on a state decoded anew
            last[1] = {label.args: nxt for label, nxt in d.steps(state)}
            last[0] = state
        return last[1].get(row)

    step.__name__ = d.name
    return step


def _covered(d, known: dict) -> Callable:
    def covered(state) -> bool:
        return all(a in known for a in d.row_arguments(state, view_order if is_view(state) else None))

    covered.__name__ = f"{d.name}_arguments"
    return covered


def _branches_covered(d, args: tuple, known: dict, in_domain: Callable | None = None) -> Callable:
    """Whether every branch of ``d(args)`` at the state has a row (where ``args`` is in the domain there:
    tested by ``in_domain`` on a view, found in the listed domain on a real state)."""
    def covered(state) -> bool:
        order = view_order if is_view(state) else None
        if in_domain is not None and (in_domain(state, *args) is None if order else args not in d.arguments(state)):
            return True
        results = d.fn(state, *args)
        return results is None or all(label.args in known for label, _ in d.branches(state, args, results, order))

    covered.__name__ = f"{d.name}_branches"
    return covered


def _members(d) -> list | None:
    """Each parameter's ``Member`` (None for a parameter whose domain does not read the state), or None when a
    state-reading domain of ``d`` is not a set field's elements."""
    members = []
    for domain in d.domains:
        if not domain.reads_state:
            members.append(None)
            continue
        member = member_domain(d, domain.param, domain)
        if member is None:
            return None
        members.append(member)
    return members


def _candidates(d, elements: list) -> list[tuple]:
    """Every argument tuple of ``d`` whose state-reading parameters range over ``elements`` (a list per such
    parameter: its field's numbered elements; None for the others, which range over their domains)."""
    return d.arguments(None, {k: values for k, values in enumerate(elements) if values is not None})


def _member_guarded(d, members: list, then: Callable | None = None) -> Callable:
    """The action (or ``then``), disabled where an argument is not in its domain, each state-reading domain
    tested by membership (``membership.py``)."""
    fn, spec = then or d.fn, d.spec
    params = [domain.param for domain in d.domains]
    # per tested parameter: its position, its test, and the positions of the earlier arguments its domain takes
    tests = [(k, m.test, [params.index(n) for n in domain.needs])
             for k, (m, domain) in enumerate(zip(members, d.domains)) if m is not None]

    def step(state, *args):
        for k, test, needs in tests:
            if not test(spec, state, *[args[i] for i in needs], args[k]):
                return None
        return fn(state, *args)

    step.__name__ = d.name
    return step


def _enabled(state, *args) -> bool:
    """What ``_member_guarded`` runs past the membership tests when only they are asked."""
    return True


def _never(test: Callable, layout, args: tuple) -> bool:
    """Whether ``test`` rules ``args`` out without reading the state: a condition on the argument alone (``type(m)
    is P2a`` for a P2b message), so a row for it would be disabled on every state.  Asked on a view of the packed
    state 0: an answer that read no bit and filtered no set is the answer on every state."""
    reads = Reads()
    try:
        answer = test(StateView(0, layout, reads), *args)
    except Exception:  # noqa: BLE001 - a condition that raises here is kept as a row, where the search judges it
        return False
    return answer is None and not reads.mask and not reads.filters


def _closed(test: Callable, state, listed: list, candidates: list[tuple]) -> bool:
    """Whether ``test`` accepts no argument tuple among ``candidates`` beyond ``listed`` at ``state``."""
    listed = set(listed)
    return all(args in listed for args in candidates if test(state, *args) is not None)
