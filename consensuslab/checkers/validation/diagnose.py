"""Why a log is not explained: the first event no behaviour can take, in the states reached just before it.

At the furthest point the search reached (the most events taken), every ready
expectation failed in every state there.  The report names the first of them
in the canonical order, and for the first state says why: no step of the model
takes it (and which steps its node could take), or a step does but a field
differs (which, the logged value, the model's).  Where nothing is ready, a
receive waits for a send that no explained behaviour reaches first: the log's
orders contradict each other (a receive logged before its own cause).
"""

from __future__ import annotations

from consensuslab.checkers.validation.native import readable
from consensuslab.checkers.validation.plan import Plan
from consensuslab.checkers.validation.result import Failure
from consensuslab.checkers.validation.take import Taker

MAX_STATES = 3
MAX_ENABLED = 12


def diagnose(model, plan: Plan, taker: Taker, mapping, pos: tuple[int, ...], states: list,
             tried_all: bool = True) -> Failure:
    """The failure at ``pos``; ``tried_all``: every ready head was tried there (not only the first, as the
    clock order does), so the others are reported as not takeable too."""
    states = _distinct(states)[:MAX_STATES]
    heads = plan.heads(pos)
    if not heads:
        return _blocked(plan, pos, states)
    k, x = heads[0]
    expect = plan.expects[k][x]
    event = plan.event_of(k, x)
    failure = Failure(event=expect.event, where=event.where if event else "", describe=_describe(event, expect),
                      expected=expect.describe(), reason="", states=states)
    if tried_all:
        failure.also_stuck = [_describe(plan.event_of(k2, x2), plan.expects[k2][x2]) for k2, x2 in heads[1:6]]
    state = states[0]
    names = [name for name, _ in expect.fields]
    failure.node_fields = [{n: _observe(mapping, model, expect.node, n, s) for n in names} for s in states]
    failure.enabled = [str(a) for a, _ in model.successors(state) if mapping.node_of(model, a) == expect.node
                       ][:MAX_ENABLED]
    if not expect.takes_step:
        diff = taker.mismatch(expect, state, None, state)
        _field(failure, diff, "the node's state differs from the log")
        return failure
    if expect.exact and not expect.steps:
        failure.reason = f"no model step can take it (the mapping says so): {expect.describe()}"
        return failure
    finals = _finals(taker, expect, state)
    if not finals:
        failure.reason = f"no step of the model takes it: the model has no enabled {expect.describe()}"
        return failure
    action, before, after = finals[0]
    _field(failure, taker.mismatch(expect, before, action, after),
           f"the model's {action} does not show what the log does")
    return failure


def _finals(taker: Taker, expect, state) -> list[tuple]:
    """The final steps enabled from ``state``, directly or after helper steps: (action, before, after)."""
    out, frontier, seen = [], [state], {state}
    for _ in range(taker.limit + 1):
        grown = []
        for s in frontier:
            for action, t in taker.steps(expect, s):
                if expect.final(action):
                    out.append((action, s, t))
                if expect.helper(action) and t not in seen:
                    seen.add(t)
                    grown.append(t)
        frontier = grown
    return out


def _field(failure: Failure, diff, reason: str) -> None:
    if diff is None:  # every field matches here: the state is fine, what comes after is not
        failure.reason = reason + " (every logged field matches; no later event can follow)"
        return
    failure.field, failure.logged, failure.observed = diff
    failure.reason = f"field {diff[0]}: the log says {_short(readable(diff[1]))}, the model has " \
                     f"{_short(readable(diff[2]))}"


def _blocked(plan: Plan, pos: tuple[int, ...], states: list) -> Failure:
    """Every head waits for a send no behaviour reaches first: name the receive most likely out of place."""
    waiting = []
    for k, x in enumerate(pos):
        if x >= plan.lengths[k]:
            continue
        for other, needed in plan.waits[k][x]:
            if pos[other] < needed:
                waiting.append((k, x, other, needed))
                break
    k, x, other, needed = min(waiting, key=lambda w: (not _out_of_place(plan, w[0], w[1]), plan.order[w[0]][w[1]]))
    expect = plan.expects[k][x]
    event, send = plan.event_of(k, x), plan.event_of(other, needed - 1)
    return Failure(event=expect.event, where=event.where if event else "", describe=_describe(event, expect),
                   expected=expect.describe(),
                   reason=f"it waits for {_describe(send, plan.expects[other][needed - 1])}, which no explained "
                          f"behaviour reaches before it (a receive logged before its own cause?)", states=states,
                   also_stuck=[_describe(plan.event_of(k2, x2), plan.expects[k2][x2])
                               for k2, x2, _, _ in waiting if (k2, x2) != (k, x)][:5])


def _out_of_place(plan: Plan, k: int, x: int) -> bool:
    """Whether the expectation's event has a clock later than the node's next event's (moved in its own log)."""
    event = plan.event_of(k, x)
    if event is None or event.clock is None:
        return False
    later = [e for e in plan.log.of(event.node) if e.seq > event.seq and e.clock is not None]
    return bool(later) and later[0].clock < event.clock


def _describe(event, expect) -> str:
    return event.describe() if event is not None else f"{expect.event[0]}#{expect.event[1]}"


def _observe(mapping, model, node, name, state):
    try:
        return mapping.observe(model, node, name, state, None, state)
    except Exception as exc:  # noqa: BLE001 - a report must not fail on a field the mapping cannot show here
        return f"<{type(exc).__name__}>"


def _short(value, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _distinct(states: list) -> list:
    out, seen = [], set()
    for s in states:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out
