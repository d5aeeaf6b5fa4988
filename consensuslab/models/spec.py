"""Global-state specifications, TLA+ style.

A ``Spec`` is a record of variables and a set of actions; each action is a
method ``(self, s, *args)`` that returns the next state, or ``None`` where its
guard is false.  ``@action(rm="RM")`` gives the finite domain of each
argument (``\\E rm \\in RM``).  Transcribing a published spec this way keeps
distinct-state counts equal to TLC's on the same constants.

What a TLA+ module says, and how it is written here:

==============================================  ===============================================
``\\E rm \\in RM : A(rm)``                        ``@action(rm="RM")``
``\\E j \\in Node \\ {i} : A(i, j)``                ``@action(i="Node", j=lambda self, i: ...)``
``\\E m \\in msgs : A(m)``                         ``@action(m=lambda self, s: s.msgs)``
``A == B \\/ C`` inside one action                ``yield`` each next state (a generator)
``UNCHANGED <<x, y>>``                            ``@action(..., unchanged=("x", "y"))`` (checked)
``CONSTRAINT C``                                  ``@constraint def C(self, s)``
``Init => P`` / ``INVARIANT``                     ``@initially`` / ``@always``
``\\A self \\in Node : WF(node(self))``             ``@action(i=..., by="i")`` + ``Fair("step", per="node")``
``THEOREM Spec => Abstract!Spec``                 ``@refines(Abstract)`` on the mapping
``CHECK_DEADLOCK FALSE``                          ``check_deadlock = False``
==============================================  ===============================================

States should be ``typing.NamedTuple`` records: building and hashing one costs
about a fifth of a frozen attrs instance (measured: 0.44 us vs 1.4 us to build,
0.5 us vs 2.5 us to build and hash), and the checker does both for every
transition.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, ClassVar, Iterable

from consensuslab.errors import ModelError, ReplayError
from consensuslab.models.action import Action
from consensuslab.models.definition import Definition
from consensuslab.models.model import Model
from consensuslab.models.spec_table import Declared, action_rows, declared_actions, unrolled_successors


def action(fn: Callable | None = None, *, by: str | None = None, fault: bool | Callable = False,
           unchanged: Iterable[str] | None = None, branches: Iterable | None = None, **domains):
    """Mark a spec action; keyword arguments give each parameter's domain.

    A domain is an attribute name of the spec (``rm="RM"``), a literal
    iterable, or a function.  A function's first parameter is the spec; it may
    also take the state (under the action's own name for it, usually ``s``)
    and earlier parameters by name: ``j=lambda self, i: [n for n in self.Node
    if n != i]`` (``j \\in Node \\ {i}``), ``m=lambda self, s: s.msgs``
    (``\\E m \\in msgs``).  A domain that reads the state is evaluated in every
    state; the compiled engine gives each argument it yields a row of its own,
    and tests a domain over a set field (``s.msgs``, the elements of it that
    pass conditions, or a helper returning either) by membership
    (docs/how-to/engines.md).

    An action that is a generator has several next states: each ``yield
    state`` (or ``yield label, state``) is its own step, labelled
    ``Name(args..., label)`` (unlabelled branches are numbered 1, 2, ... in a
    canonical order of their next states).  Declaring the labels,
    ``branches=("Commit", "Abort")``, makes each branch a row of the action
    table; undeclared, the compiled engine gives each branch it meets a row, as
    it does an argument of a domain that reads the state.

    ``by`` says which node takes the step: the name of the parameter that holds
    it (``@action(i="Server", by="i")``: ``Timeout(s2)`` is s2's step), a
    node's own name for an action without one (``@action(by="tm")``), or a
    function of the spec and the arguments (``by=lambda self, c: f"c{c + 1}"``).
    Charts draw the step on that node's lane, and per-node fairness
    (``Fair("step", per="node")``) counts it there.

    ``fault=True`` declares the action a fault (the adversary's move: a crash,
    a lost or forged message, a traitor's choice): traces draw it as one and
    ``trace minimize`` keeps as few as it can.  ``fault`` may also be a
    function of the spec and the action's arguments (``fault=lambda self, i:
    i in self.byzantine``): only those steps are faults.

    ``unchanged`` lists the variables the action leaves alone, as TLA+'s
    ``UNCHANGED <<x, y>>`` does (``unchanged=()``: it assigns every
    variable); the lint checks every step it explores against it (an error
    when one changes) and warns about a variable outside it that no step of
    the action ever changed (an assignment forgotten).  Without it, the lint
    warns only about an action none of whose steps changes anything.
    """
    if isinstance(unchanged, str):
        unchanged = (unchanged,)

    def decorate(f):
        f.__consensuslab_action__ = domains
        f.__consensuslab_by__ = by
        f.__consensuslab_fault__ = fault if callable(fault) else bool(fault)
        f.__consensuslab_unchanged__ = None if unchanged is None else tuple(unchanged)
        f.__consensuslab_branches__ = None if branches is None else tuple(branches)
        return f

    return decorate(fn) if fn is not None else decorate


def constraint(fn: Callable) -> Callable:
    """A state constraint (TLA+'s ``CONSTRAINT``): ``fn(self, s) -> bool``; several are a conjunction.

    As TLC does (measured with TLC 2.15): a state outside the constraint is
    neither counted nor expanded, but its invariants are still evaluated (an
    initial state's too), and so are the transition properties of the step to
    it; a state whose only successors leave the constraint is not a deadlock.
    Such a state is not reachable for ``sometimes`` witnesses.  Each action
    keeps only the steps TLC keeps, so every engine applies it.
    """
    fn.__consensuslab_constraint__ = True
    return fn


class Spec(Definition):
    """Base class of TLA+-style specifications.

    A subclass declares ``name``, ``params``, ``setup()`` (constants from
    parameters), ``init()`` (the initial states), ``@action`` methods and
    properties.  ``check_deadlock = False`` says that a state without
    successors is not an error (TLC's ``CHECK_DEADLOCK FALSE``); scenarios
    follow it unless they set ``deadlock`` themselves.  ``done(s)`` marks
    final states instead, where only some are.
    """

    fault_actions: ClassVar[Iterable[str]] = ()
    """Names of fault actions a custom model produces outside ``@action`` (otherwise ``@action(fault=True)``)."""

    def init(self) -> Iterable:
        """The initial states (a generator or list)."""
        raise NotImplementedError

    def compile(self) -> "SpecModel":
        """The model ``check`` explores: ``check(MySpec.configure({"n": 3}).compile())``."""
        return SpecModel(self)


class SpecModel(Model):
    """The ``Model`` of a spec: its action table, per-state actions, constraints and declarations."""

    def __init__(self, spec: Spec):
        super().__init__(spec)
        self.spec = spec
        self._initial: list | None = None  # ``initial_states``, once computed
        decls = declared_actions(spec)
        if not decls:
            raise ModelError(f"{spec.name}: no actions declared (use @action)")
        self._decls: dict[str, Declared] = {d.name: d for d in decls}
        self._constraints = constraints_of(spec)
        rows = action_rows(decls)
        self._per_state = [d for d in decls if d.per_state]
        if self._constraints:
            # each row and per-state action keeps only the steps TLC keeps: into the constraint, or
            # out of it where a property breaks; plain table rows, so the compiled engine runs them too
            self._raw_successors = unrolled_successors(rows, [d.steps for d in self._per_state])
            self._raw_table = rows  # the actions alone: the compiled level search filters their steps itself
            rows = [(label, self._constrained(label, fn), args) for label, fn, args in rows]
            steps = [self._constrained_steps(d.steps) for d in self._per_state]
        else:
            steps = [d.steps for d in self._per_state]
        self._table = rows
        self.successors = unrolled_successors(rows, steps)  # type: ignore[method-assign]
        self._acting = {d.name: _acting(d, spec) for d in decls if d.by is not None}
        self._faults = frozenset(d.name for d in decls if d.fault is True) | frozenset(type(spec).fault_actions)
        self._fault_tests = {d.name: d.fault for d in decls if callable(d.fault)}

    # -- the semantic core ---------------------------------------------------------------
    def initial_candidates(self) -> list:
        """The spec's initial states, before any state constraint."""
        return list(self.spec.init())

    def initial_states(self) -> list:
        """The initial states, computed once: every search of a run (the lint, the probe, the compiled search)
        starts from them, and ``init`` may yield many (EWD840 with N = 7: 114,688, 0.05 s each time)."""
        if self._initial is None:
            self._initial = self.fresh_initial_states()
        return list(self._initial)

    def fresh_initial_states(self) -> list:
        """The initial states computed again."""
        return self._kept(self.initial_candidates())

    def initial_states_again(self, limit: int) -> tuple[list, bool]:
        """As ``Model.initial_states_again``, with no more of ``init`` run than the first ``limit`` candidates.

        Why: an ``init`` that enumerates a state space and keeps what satisfies an invariant (TLA+'s ``ISpec``;
        MCBakery: 1.7 million candidates, 5.7 s) ran a second time in full for the lint's comparison."""
        candidates = list(itertools.islice(self.spec.init(), limit + 1))
        return self._kept(candidates[:limit]), len(candidates) <= limit

    def _kept(self, candidates: list) -> list:
        if not self._constraints:
            return candidates
        return [s for s in candidates if self.within(s) or self._escapes(None, None, s)]

    def successors(self, state) -> list[tuple[Action, Any]]:  # replaced per instance in __init__
        raise NotImplementedError

    def _constrained(self, label: Action, fn: Callable) -> Callable:
        """The row's method, keeping only a next state TLC keeps (see ``constraint``)."""
        within, escapes = self.within, self._escapes

        def constrained(state, *args):
            nxt = fn(state, *args)
            if nxt is None or within(nxt) or escapes(state, label, nxt):
                return nxt
            return None

        constrained.__name__ = getattr(fn, "__name__", "action")
        return constrained

    def _constrained_steps(self, steps: Callable) -> Callable:
        within, escapes = self.within, self._escapes
        return lambda state: [(a, t) for a, t in steps(state) if within(t) or escapes(state, a, t)]

    def within(self, state) -> bool:
        """Whether ``state`` satisfies every ``@constraint``."""
        return all(c(state) for c in self._constraints)

    def _escapes(self, before, act, after) -> bool:
        """Whether a state outside the constraint breaks a property (kept, so the search reports it)."""
        view = self.view(after)
        try:
            if any(not p.fn(view) for p in self.invariants):
                return True
            return before is not None and any(not p.fn(self.view(before), act, view) for p in self.step_properties)
        except Exception:
            return True  # kept, so that the search names the property that raised

    def is_done(self, state) -> bool:
        """Finished (``done``), or every successor leaves the state constraint (TLC: not a deadlock)."""
        if super().is_done(state):
            return True
        return bool(self._constraints) and bool(self._raw_successors(state)) and not self.successors(state)

    def apply(self, state, act: Action):
        decl = self._decls.get(act.name)
        if decl is not None and not decl.per_state:
            for label, fn, args in self._table:
                if label == act:
                    nxt = fn(state, *args)
                    if nxt is None:
                        raise ReplayError(f"{act} is not enabled")
                    return nxt
        if decl is None:
            raise ReplayError(f"{act} is not an action of {self.protocol}")
        return super().apply(state, act)  # per-state actions: as the successors say

    # -- declarations ---------------------------------------------------------------------
    def node_of(self, action: Action):
        """The node that takes ``action``, as its ``@action(by=...)`` says (None: it does not say)."""
        who = self._acting.get(action.name)
        return who(action.args) if who is not None else None

    def is_fault(self, action: Action) -> bool:
        """Declared faults: ``@action(fault=...)``, and the spec's ``fault_actions``."""
        if action.kind != "step":
            return False
        test = self._fault_tests.get(action.name)
        if test is not None:
            return bool(test(self.spec, *action.args[:len(self._decls[action.name].params)]))
        return action.name in self._faults

    def action_names(self) -> list[str]:
        return sorted(self._decls)

    def declared(self, name: str) -> Declared | None:
        """The ``@action`` declaration named ``name`` (None for steps a custom model adds)."""
        return self._decls.get(name)


def constraints_of(spec: Spec) -> list[Callable]:
    """The spec's bound ``@constraint`` methods, base classes first."""
    found: dict[str, Any] = {}
    for klass in reversed(type(spec).__mro__):
        for name, member in vars(klass).items():
            if getattr(member, "__consensuslab_constraint__", False):
                found[name] = member
            else:
                found.pop(name, None)
    return [getattr(spec, name) for name in found]


def _acting(decl: Declared, spec: Spec) -> Callable[[tuple], Any]:
    if callable(decl.by):
        return lambda args, f=decl.by: f(spec, *args)
    if decl.by in decl.params:
        k = decl.params.index(decl.by)
        return lambda args: args[k]
    return lambda args, node=decl.by: node
