"""Unbounded ordered identifiers (ballots, terms, views) in a finite state space.

A protocol whose ballots grow for ever has an infinite state graph, and a
behaviour such as "two proposers keep pre-empting each other" never returns
to a state it has visited: every round has larger ballots.  Yet such a
protocol only ever *compares* ballots (``<``, ``==``) and asks who owns one
(``b mod m``).  Two states that differ by a renaming of their ballots that
keeps the order and the owners then behave alike, and checking one state per
class is exact.  ``OrderedRenaming`` is that normal form: the ballots in use
are renamed to the least numbers that keep their order and their residue
``mod m`` (``{3, 8, 9}`` with ``m = 2`` becomes ``{1, 2, 3}``), so the graph
is finite while ballots, in the behaviour it stands for, are unbounded.

A protocol opts in by setting ``normal_form`` to an ``OrderedRenaming`` (the
actor model applies it to every state it produces, so every checker, replay
and the Hypothesis bridge see the same finite model) and, where a step must
start a new ballot, by using ``fresh(residue)``.  The graph is finite when,
besides, the number of values a state can hold is bounded (messages must not
pile up: see ``timely`` in ``protocols.paxos_actors``).
``checkers.unbounded`` tests a normal form for exactness and re-runs a
lasso in real values.

Exactness.  Write ``s ~ t`` when ``t`` is ``s`` with its values renamed by
a bijection ``pi`` that keeps order and residues.  ``~`` is a bisimulation,
with action labels renamed by ``pi``, and properties agree on related
states, provided the protocol is *data independent* in these values:

1. handlers, guards (the ``timing`` hook too) and properties use the
   values only through ``<``, ``==`` and ``v mod m``, and through the values
   they receive (no arithmetic such as ``b + 1``, no constants other than
   the negative sentinels, which are never renamed);
2. a step creates a value only as ``fresh(r)``: a value with residue ``r``
   above every value in use.  In every state the model produces all values
   are below ``FRESH``, so ``fresh(r)`` is above them all, and extending
   ``pi`` by "the new top value goes to the new top value" keeps order and
   residues: the renaming commutes with the step;
3. ``forget``, if given, removes only data that can no longer influence an
   enabled step or a property (a learner's votes in a ballot that can get no
   further vote, say), and the condition that makes it dead never becomes
   false again; then the state and its reduced form have the same future.

So the normal form is a quotient by a bisimulation: safety verdicts,
deadlocks, state counts and traces are those of the unbounded protocol up
to the renaming (a trace shows canonical ballots: after each step the
ballots in use are renumbered).

Fairness.  The liveness checker judges fairness per action *label*, and a
label can name a renamed value (``a1 receives Prepare(3)``).  A cycle of
the quotient graph stands for an infinite behaviour of the unbounded
protocol in which every lap is the previous one renamed.  By 2 a value,
once gone, never comes back and new values only appear on top, so a value
that stays for ever eventually has only permanent values below it and
keeps one canonical label; an action enabled for ever (or infinitely often)
keeps its values in the state (a message in flight carries them), so it
keeps one label too.  Hence if the real behaviour starves an action, the
quotient cycle starves its label: **a cycle that is fair by labels is a
fair behaviour of the unbounded protocol**, so a liveness counterexample
found through the normal form is genuine.  The converse can fail (a label
continuously enabled by different messages in turn, each delivered under
another label after a renumbering), so where only such behaviours violate a
property the checker may miss them.  ``checkers.unbounded`` re-executes a lasso
in real, growing values and checks its fairness there.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from consensuslab.errors import ModelError

#: ``fresh(r)`` is ``FRESH * m + r``; canonical values stay far below it
FRESH = 1 << 40
#: at most this many raw states keep their normal form memoised
CACHE = 1 << 18


def least_renaming(values: Iterable[int], modulus: int) -> dict[int, int]:
    """The order- and residue-preserving map of ``values`` onto the least such numbers.

    Sorted ``v0 < v1 < ...`` go to ``r0 < r1 < ...`` where ``r0`` is
    ``v0 mod m`` and each next one is the least number above the previous
    one with the same residue as its value: ``{3, 8, 9}`` mod 2 gives
    ``{3: 1, 8: 2, 9: 3}``.  Two sets of values have the same image
    exactly when some order- and residue-preserving bijection relates them.
    """
    out: dict[int, int] = {}
    last = -1
    for v in sorted(set(values)):
        r = v % modulus
        nxt = last + 1
        nxt += (r - nxt) % modulus
        out[v] = last = nxt
    return out


class OrderedRenaming:
    """The normal form of a protocol's states under renamings of one sort of ordered values.

    ``values(x)`` yields the values of the sort held by ``x`` (a node's local
    state or a message; anything else yields nothing), ``rename(x, f)``
    returns ``x`` with each such value ``v`` replaced by ``f[v]``; values
    below 0 are sentinels ("none") that neither function reports or
    renames.  ``modulus`` is ``m`` (the number of owners); ``forget(world)``
    optionally returns the raw state with dead data removed (see the
    module docstring for what each must satisfy).
    """

    def __init__(self, modulus: int, values: Callable[[Any], Iterable[int]],
                 rename: Callable[[Any, Mapping[int, int]], Any],
                 forget: Callable[[Any], Any] | None = None):
        if modulus < 1:
            raise ValueError("the modulus of an ordered renaming must be at least 1")
        self.modulus = modulus
        self.values = values
        self.rename = rename
        self.forget = forget
        # local states and messages recur in many states: their values and renamings are memoised
        self._found: dict = {}
        self._renamed: dict = {}
        self._normal: dict = {}  # raw state -> normal form: most states are reached several times

    def _values_of(self, x) -> tuple:
        got = self._found.get(x)
        if got is None:
            got = self._found[x] = tuple(self.values(x))
        return got

    def _rename(self, x, f, key):
        got = self._renamed.get((x, key))
        if got is None:
            got = self._renamed[(x, key)] = self.rename(x, f) if self._values_of(x) else x
        return got

    def fresh(self, residue: int) -> int:
        """A value with this residue above every value in use (the normal form renames it down)."""
        return FRESH * self.modulus + residue % self.modulus

    def __call__(self, world):
        """The canonical representative of the world's raw state (the actor model's hook)."""
        got = self._normal.get(world.raw)
        if got is None:
            if len(self._normal) >= CACHE:
                self._normal.clear()
            raw = world.raw if self.forget is None else self.forget(world)
            got = self._normal[world.raw] = self.canonical(world.model, raw)[0]
        return got

    def in_state(self, model, gs) -> set[int]:
        """Every value of the sort in a raw actor state: node states and messages in flight."""
        found: set[int] = set()
        values = self._values_of
        for local in gs.locals:
            found.update(values(local))
        for _, _, msg in model.network.in_flight(gs.net):
            found.update(values(msg))
        return found

    def canonical(self, model, gs):
        """(the canonical state, the renaming that produced it) for a raw state, dead data already gone."""
        f = least_renaming(self.in_state(model, gs), self.modulus)
        if f and max(f.values()) >= FRESH * self.modulus:
            raise ModelError(f"{model.protocol}: too many distinct values in one state for the normal form")
        return self.apply(model, gs, f), f

    def apply(self, model, gs, f: Mapping[int, int]):
        """The raw state with every value renamed by ``f`` (an order- and residue-preserving map)."""
        if all(k == v for k, v in f.items()):
            return gs
        rename, key = self._rename, tuple(f.items())
        locals_ = tuple(rename(local, f, key) for local in gs.locals)
        net = map_messages(model.network, gs.net, lambda msg: rename(msg, f, key))
        return gs._replace(locals=locals_, net=net)

    def rename_action(self, action, f: Mapping[int, int]):
        """The action with the values in its arguments (a delivered message, say) renamed."""
        from consensuslab.models.action import Action

        args = tuple(self.rename(x, f) for x in action.args)
        return action if args == action.args else Action(action.kind, action.name, action.node, args)


def map_messages(network, net, fn: Callable[[Any], Any]):
    """The network value with each message in flight replaced by ``fn(message)`` (same links, order, counts)."""
    from consensuslab.models.network import PartialSynchrony

    if isinstance(network, PartialSynchrony):
        return (net[0], map_messages(network.inner, net[1], fn))
    envelopes = [(src, dst, fn(msg)) for src, dst, msg in network.in_flight(net)]
    return network.add(network.empty(), envelopes)


def with_locals(model, gs, changes: Mapping[str, Any]):
    """The raw actor state with the local states of the named nodes replaced."""
    if not changes:
        return gs
    locals_ = list(gs.locals)
    for node, local in changes.items():
        locals_[model.index[node]] = local
    return gs._replace(locals=tuple(locals_))
