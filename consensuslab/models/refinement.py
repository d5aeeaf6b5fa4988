"""Refinement of an abstract spec (TLA+ ``THEOREM Spec => Abstract!Spec``), declared by its mapping.

``@refines(Abstract, params=...)`` on a method ``mapping(self, s)`` that
returns the abstract state ``s`` stands for (TLA+'s refinement mapping, the
``INSTANCE ... WITH``) states two properties, named after the method:

* ``<mapping>_init`` (``@initially``): the mapped initial state is an
  initial state of ``Abstract`` (``Init => Abstract!Init``);
* ``<mapping>_step`` (``@always_step``): every step maps to a step of
  ``Abstract``'s next-state relation or to a stutter
  (``[][Abstract!Next]_Abstract!vars``).

``Abstract`` is a ``Spec`` written with this framework; it is never explored,
only asked for its initial states and for the successors of mapped states
(cached, up to ``CACHE_LIMIT`` of them).  The step part is a transition
property, which the interpreted search checks.
"""

from __future__ import annotations

from typing import Any, Callable

from consensuslab.errors import ConsensuslabError, ModelError
from consensuslab.models.properties import ALWAYS_STEP, INITIALLY, Property

#: abstract states whose successors are kept (the cache is dropped and refilled past this).  A search
#: checks a state's steps one after another, so the same abstract state is asked for in a row; a small
#: cache catches that without holding a second copy of the state space.
CACHE_LIMIT = 4096


def refines(abstract: type, params: dict | Callable[[Any], dict] | None = None):
    """Declare the decorated method ``(self, s) -> abstract state`` a refinement mapping to ``abstract``.

    ``params`` configures the abstract spec: a dict of parameter values, or a
    function of the spec returning one (``params=lambda self: {"n": self.n}``).
    """

    def decorate(fn):
        fn.__consensuslab_properties__ = lambda instance, attr: refinement_properties(instance, attr, abstract, params)
        fn.__consensuslab_refines__ = abstract
        return fn

    return decorate


class Abstract:
    """The abstract spec's initial states and (cached) next states, for the refinement's two properties."""

    def __init__(self, owner: str, attr: str, abstract: type, values: dict):
        try:
            self.model = abstract(values).compile()
        except ConsensuslabError as exc:
            raise ModelError(f"{owner}: @refines({abstract.__name__}) on {attr}: {exc}") from None
        self._initial: set | None = None
        self._next: dict = {}

    def initial(self) -> set:
        if self._initial is None:
            self._initial = set(self.model.initial_states())
        return self._initial

    def next_states(self, state, plain: bool = False) -> set:
        """``plain``: the caller says ``state`` holds no view (it was mapped from a decoded state)."""
        got = self._next.get(state)
        if got is None:
            if len(self._next) >= CACHE_LIMIT:
                self._next.clear()
            if not plain:
                state = _plain(state)  # key and next states alike: none may hold a view (see ``_plain``)
            got = self._next[state] = {nxt for _, nxt in self.model.successors(state)}
        return got


def _plain(value):
    """``value`` with every view of a packed state (what the compiled engine traces on) replaced by the value it
    stands for: this cache outlives a search attempt, and a view kept from an attempt whose packing has since
    widened would read the wrong bits."""
    if getattr(type(value), "_real", None) is not None:
        return _plain(value._real())
    kind = type(value)
    if kind is tuple:
        return tuple(_plain(v) for v in value)
    if kind is frozenset:
        return frozenset(_plain(v) for v in value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return kind(*(_plain(v) for v in value))
    return value


def refinement_properties(instance, attr: str, abstract: type, params) -> list[Property]:
    """The ``_init`` and ``_step`` properties of the mapping ``attr`` of ``instance``."""
    values = params(instance) if callable(params) else dict(params or {})
    target = Abstract(instance.name, attr, abstract, values)
    mapping = getattr(instance, attr)
    what = abstract.__name__

    def init(s) -> bool:
        return mapping(s) in target.initial()

    last: list = [(None, None)]  # (the state last mapped as ``before``, its image), replaced whole: thread-safe

    def mapped_before(state):
        """``mapping(state)``, once for every step that leaves ``state``: a search checks a state's steps one
        after another (EWD998: 2.07 mapping calls a step became 1.37).  Not for a view of a packed state: its
        reads must be the mapping's own."""
        known = last[0]
        if state is known[0]:
            return known[1]
        image = mapping(state)
        if getattr(type(state), "_real", None) is None:
            last[0] = (state, image)
        return image

    def step(before, action, after) -> bool:
        a, b = mapped_before(before), mapping(after)
        return b == a or b in target.next_states(a)

    step.__consensuslab_refinement__ = (mapping, target)  # the compiled search maps each state once
    return [Property(f"{attr}_init", INITIALLY, init, f"the mapped initial state is an initial state of {what}"),
            Property(f"{attr}_step", ALWAYS_STEP, step, f"every step maps to a step of {what} or a stutter")]
