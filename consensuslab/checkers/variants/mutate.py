"""Mutation self-check: weaken a protocol in standard ways and see whether its properties notice.

A mutant that still passes ("survived") means the properties, or the
scenario's bounds, are too weak to catch that bug.  Only weakenings that can
be applied *soundly without knowing the protocol's code* are generic:

- ``quorum-1``: the ``quorum`` parameter set to the protocol's quorum size
  (``quorum_system()["q"]`` or ``self.q``) minus one;
- ``senders-as-count`` (actor protocols): a delivery may be credited to any
  node of the sender's role, which is what counting messages instead of
  distinct senders amounts to (a duplicate counts as another node's vote);
- ``volatile-durable`` (actor protocols under ``CrashRecover`` with
  ``durable`` fields): recovery forgets the durable fields, i.e. a skipped
  persistence step;
- ``variant:NAME``: every declared variant that some scenario expects to
  fail (a known bug, e.g. two-phase's ``no-wait``), run on *this* scenario;
- ``mutation:NAME``: what the protocol declares in ``mutations = {name:
  description}`` and implements by testing ``self.mutation == name``.

A dropped guard is not generic: a spec action or handler computes its effect
inside its guard, so there is nothing to run where it returned None.
Protocols declare such mutants themselves (``mutations``).

A mutant that passes is then compared with the original: where both have the
same state graph (the same initial states, and the same labelled successors
in every reachable state), it cannot change anything the properties could
see, in this scenario.  It is reported ``equivalent``, not ``survived``: no
property can kill it here (a scenario that exercises the change could).
"""

from __future__ import annotations

import time
from typing import Any, Callable

import attrs

from consensuslab.errors import ConsensuslabError, UsageError

KILLED, SURVIVED, EQUIVALENT, INCOMPLETE, ERROR = "killed", "survived", "equivalent", "incomplete", "error"


@attrs.define
class Mutant:
    name: str
    description: str
    build: Callable[[], Any]  # -> a compiled Model


@attrs.define
class MutantResult:
    name: str
    description: str
    verdict: str
    message: str
    states: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


class SenderBlindNetwork:
    """Wraps a network so that each delivery may be credited to any node of the sender's role."""

    def __init__(self, inner, topology: dict[str, tuple[str, ...]]):
        self.inner = inner
        self.peers = {n: nodes for nodes in topology.values() for n in nodes}

    def deliverable(self, net):
        """The genuine deliveries, then each credited to another peer where that label is new: one
        label, one successor, so traces rebuilt from action labels stay deterministic."""
        genuine = list(self.inner.deliverable(net))
        labels = {env for env, _ in genuine}
        yield from genuine
        for (src, dst, msg), after in genuine:
            for alias in self.peers.get(src, ()):
                env = (alias, dst, msg)
                if alias != dst and env not in labels:
                    labels.add(env)
                    yield env, after

    def __getattr__(self, name):
        return getattr(self.inner, name)


def mutants(cls, params: dict, scenario) -> tuple[list[Mutant], list[tuple[str, str]]]:
    """The mutants that apply to ``cls`` here, and (name, why not) for the generic ones that do not."""
    from consensuslab.models.actor_model import ActorModel
    from consensuslab.models.faults import CrashRecover

    found: list[Mutant] = []
    skipped: list[tuple[str, str]] = []
    base = cls(params, None, scenario)
    model = base.compile()

    q = _quorum(base)
    if "quorum" not in cls.params:
        skipped.append(("quorum-1", "no `quorum` parameter" + (" (it declares quorum_system(), but nothing "
                        "to weaken it with)" if hasattr(base, "quorum_system") else "")))
    elif not q or q <= 1:
        skipped.append(("quorum-1", f"the quorum size is {q}: nothing smaller to try"))
    else:
        found.append(Mutant("quorum-1", f"quorum {q} -> {q - 1}",
                            lambda: cls({**params, "quorum": q - 1}, None, scenario).compile()))

    if isinstance(model, ActorModel):
        if any(len(nodes) > 1 for nodes in model.topology.values()):
            def blind():
                m = cls(params, None, scenario).compile()
                m.network = SenderBlindNetwork(m.network, m.topology)
                return m
            found.append(Mutant("senders-as-count", "a message may be credited to any node of its sender's "
                                "role (counting messages, not distinct senders)", blind))
        else:
            skipped.append(("senders-as-count", "every role has one node"))
        if any(isinstance(f, CrashRecover) for f in model.faults) and _durable_fields(model):
            found.append(Mutant("volatile-durable", "recovery forgets the durable fields "
                                f"({', '.join(_durable_fields(model))}): a skipped persistence step",
                                lambda: _amnesiac(cls(params, None, scenario).compile())))
        else:
            skipped.append(("volatile-durable", "no CrashRecover fault with durable fields in this scenario"))
    else:
        skipped.append(("senders-as-count", "a spec counts messages in its own code; declare it in `mutations`"))
        skipped.append(("volatile-durable", "a spec models persistence in its own code; declare it in `mutations`"))
    skipped.append(("dropped-guard", "not generic (an action computes its effect inside its guard); "
                    "declare it in `mutations`"))

    broken = {s.variant for s in cls.scenarios if s.variant and s.expect != "ok"}
    for v, description in cls.variants.items():
        if v in broken:
            found.append(Mutant(f"variant:{v}", description, lambda v=v: cls(params, v, scenario).compile()))
    for name, description in (getattr(cls, "mutations", None) or {}).items():
        sub = type(cls.__name__, (cls,), {"mutation": name, "__module__": cls.__module__,
                                          "__qualname__": cls.__qualname__})
        found.append(Mutant(f"mutation:{name}", description, lambda sub=sub: sub(params, None, scenario).compile()))
    return found, skipped


def _quorum(definition) -> int | None:
    system = definition.quorum_system() if callable(getattr(definition, "quorum_system", None)) else None
    if isinstance(system, dict) and isinstance(system.get("q"), int):
        return system["q"]
    q = getattr(definition, "q", None)
    return q if isinstance(q, int) else None


def _durable_fields(model) -> list[str]:
    names = set()
    for local in model.initial_states()[0].locals:
        if attrs.has(type(local)):
            names.update(f.name for f in attrs.fields(type(local)) if f.metadata.get("durable"))
    return sorted(names)


def _amnesiac(model):
    """``model`` whose recovering nodes restart from their initial state, durable fields included."""
    initial = model.initial_states()[0].locals
    recover = model._recover

    def forgetful(gs, node):
        i = model.index[node]
        wiped = gs._replace(locals=gs.locals[:i] + (initial[i],) + gs.locals[i + 1:])
        return recover(wiped, node)

    model._recover = forgetful
    return model


def run_mutants(found: list[Mutant], time_limit: float | None = None, max_depth: int | None = None,
                on_result: Callable | None = None, original: Callable[[], Any] | None = None) -> list[MutantResult]:
    """Check each mutant; a survivor with the state graph of ``original()`` (a compiled Model) is ``equivalent``."""
    from consensuslab.checkers.variants.expect import run_model

    results = []
    for mutant in found:
        started = time.monotonic()
        try:
            model = mutant.build()
            r = run_model(model, time_limit, max_depth=max_depth)
        except UsageError as exc:
            res = MutantResult(mutant.name, mutant.description, ERROR, f"not applicable here: {exc}")
        except ConsensuslabError as exc:
            res = MutantResult(mutant.name, mutant.description, KILLED, f"the model rejects it: {exc}")
        else:
            res = MutantResult(mutant.name, mutant.description, *_verdict(r), states=r.distinct_states)
            if res.verdict == SURVIVED and original is not None and max_depth is None:
                left = None if time_limit is None else max(1.0, time_limit - (time.monotonic() - started))
                if same_graph(original(), mutant.build(), left):
                    res.verdict = EQUIVALENT
                    res.message = ("the same state graph as the original: it changes nothing here, so no property "
                                   "can catch it (a scenario that exercises the change could)")
        res.seconds = round(time.monotonic() - started, 3)
        results.append(res)
        if on_result:
            on_result(res)
    return results


def same_graph(original, mutant, time_limit: float | None = None) -> bool:
    """Whether both models have the same initial states and, in every reachable state, the same
    labelled successors (so the same state graph); False as well when ``time_limit`` runs out first."""
    started = time.monotonic()
    first = original.initial_states()
    if set(first) != set(mutant.initial_states()):
        return False
    seen, queue = set(first), list(first)
    expanded = 0
    while queue:
        expanded += 1
        if time_limit is not None and expanded % 256 == 0 and time.monotonic() - started > time_limit:
            return False
        state = queue.pop()
        out = original.successors(state)
        if out != mutant.successors(state):
            return False
        for _, nxt in out:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return True


def _verdict(r) -> tuple[str, str]:
    v = r.violation
    if r.status == "ok":
        return SURVIVED, "every property still holds"
    if r.status == "incomplete":
        return INCOMPLETE, f"stopped by {r.stopped_by} after {r.distinct_states:,} states; nothing found"
    if r.status == "deadlock":
        return KILLED, f"deadlock after {len(v.trace)} steps"
    steps = f" after {len(v.trace)} steps" if v.trace is not None else ""
    weak = " (only a reachability witness noticed)" if v.kind == "sometimes" else ""
    return KILLED, f"{v.property} ({v.kind}){steps}{weak}"
