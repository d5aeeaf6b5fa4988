"""The hot loop of the packed actor search: one breadth-first level after another.

Per state: for each unit, ``s & mask`` and one dict probe give its steps, each
successor one xor and one or (or add); per successor one set probe; per new
state one probe per invariant.  Everything the loop touches is a local name.
"""

from __future__ import annotations

from consensuslab.checkers.actors.layout import Widen
from consensuslab.checkers.actors.audit import AUDIT_EVERY, AUDITED_PER_LEVEL, CROSS_CHECKED, HandOver, audit
from consensuslab.checkers.search.ending import CHECK_EVERY, Stop
from consensuslab.traces.result import Violation


def initial_level(search) -> list:
    """The packed initial states, added (and their properties checked) as the interpreted search adds them."""
    model = search.model
    initial = model.initial_states()
    while True:
        try:
            packed = [search.layout.encode(gs) for gs in initial]
            break
        except Widen as w:
            search.widen(w, [])
    level = []
    for s, real in zip(packed, initial):
        if s in search.seen:
            continue
        search.seen.add(s)
        idx = len(search.via)
        search.parents.append(-1)
        search.via.append(None)
        search.roots[idx] = real
        broken = model.first_broken_invariant(real) if model.invariants else None
        if broken is not None:
            raise Stop(Violation(broken.name, "invariant", search.trace_to(idx)))
        for prop in list(search.pending):
            if model.holds(prop.prop, real):
                search.pending.remove(prop)
                search.witnessed.add(prop.prop.name)
        level.append(s)
    return level


def breadth_first(search) -> None:
    """Level by level until the levels run out, a limit is reached or ``Stop`` is raised."""
    level = initial_level(search)
    first = 0  # the index of the level's first state
    while level:
        if search.max_depth is not None and search.depth >= search.max_depth:
            decode, successors = search.layout.decode, search.model.successors
            if any(successors(decode(s)) for s in level):
                search.stopped_by = "max-depth"
            return
        nxt: list[int] = []
        done = expand_level(search, level, first, nxt)
        if done:
            return
        first += len(level)
        level = nxt
        if level:
            search.depth += 1


def expand_level(search, level: list, first: int, nxt: list) -> bool:
    """Expand ``level`` (its states numbered from ``first``) into ``nxt``; True when a limit stopped the search.

    The measured hot loop of the packed actor search (paxos-actors acceptors=4: all
    but the handlers' and properties' first runs happens here), one function so that
    what it touches is local.  Per state: one probe per group gives its units' steps
    (transition properties judged per group where they can be); every move's
    successor is looked up in the seen-set; only the new ones are sorted into the
    model's order, then added with their invariants checked.  Nothing is added
    before every step of the state has been judged, as in the interpreted search.
    """
    model = search.model
    check_deadlock = model.check_deadlock
    max_states = search.max_states if search.max_states is not None else -1
    invariants = search.invariants
    parents_append, via = search.parents.append, search.via
    via_append = via.append
    nxt_append = nxt.append
    spread = max(1, len(level) // AUDITED_PER_LEVEL)
    version = -1
    pos, size = 0, len(level)
    while pos < size:
        count = search.count = search.count + 1
        if count % CHECK_EVERY == 0:
            search.stopped_by = search.budget.spent(len(via), search.depth, size - pos + len(nxt))
            if search.stopped_by is not None:
                return True
        if version != search.version:
            version, rows, guard, seen = search.version, search.rows(), search.guard, search.seen
            seen_add = seen.add
            counts = search.layout.kind == "counts"
            steps_per_group, steps_one_by_one = search.step_checks()
        s = level[pos]
        idx = first + pos
        found, n, steps_ok, fresh = [], 0, True, []
        try:
            for mask, memo, step_mask, verdicts in rows:
                entry = memo[s & mask]
                if entry[0]:
                    found.append(entry)
                    n += entry[0]
                    if steps_per_group and steps_ok:
                        ok = verdicts.get(s & step_mask)
                        steps_ok = search.group_steps_ok(mask, verdicts, s, entry) if ok is None else ok
            if counts:
                if version != search.version:
                    guard = search.guard  # envelopes numbered while this state's steps were traced
                for entry in found:
                    for rank, moves, _ in entry[1]:
                        for act, x, y, j in moves:
                            t = (s ^ x) + y
                            if t & guard:
                                raise Widen("count")
                            if t not in seen:
                                fresh.append((rank, j, t, act))
            else:
                for entry in found:
                    for rank, moves, _ in entry[1]:
                        for act, x, y, j in moves:
                            t = (s ^ x) | y
                            if t not in seen:
                                fresh.append((rank, j, t, act))
        except Widen as w:
            search.count -= 1
            search.widen(w, [level, nxt])
            version = -1
            continue
        if search.regrouped:  # a unit was found while expanding s: expand it again with the new ranks
            search.regrouped = False
            search.count -= 1
            version = -1
            continue
        search.generated += n
        if not n and check_deadlock:
            search.deadlocked(s, idx)
        if count <= CROSS_CHECKED or pos % spread == 0 or count % AUDIT_EVERY == 0:
            audit(search, s, search.ordered(s, found))
        if steps_one_by_one or not steps_ok:
            check_steps(search, s, idx, search.ordered(s, found))
        if len(fresh) > 1:
            fresh.sort()  # (rank, position) are never equal: the states and actions are not compared
        for _, _, t, act in fresh:
            if t in seen:
                continue  # two steps of this state to one new state: the first in order counts
            seen_add(t)
            new = len(via)
            parents_append(idx)
            via_append(act)
            if invariants or search.pending:
                try:
                    for inv in invariants:
                        verdict = inv.memo.get(t & inv.mask)
                        if verdict is None:
                            verdict = inv.evaluate(t)
                        if not verdict:
                            search.invariant_failed(t, new)
                    for prop in search.pending:
                        verdict = prop.memo.get(t & prop.mask)
                        if verdict is None:
                            verdict = prop.evaluate(t)
                        if verdict:
                            search.witness(t)
                            break
                except (Stop, HandOver):
                    raise
                except Exception:
                    search.property_raised(t)
            nxt_append(t)
            if new + 1 == max_states:
                search.stopped_by = "max-states"
                return True
        pos += 1
    return False


def check_steps(search, s: int, idx: int, out: list) -> None:
    """Every transition of ``s``, in order, against every transition property (memoised)."""
    try:
        for act, t in out:
            for prop in search.step_props:
                if not prop.holds(s, act, t):
                    search.step_failed(s, idx, act, t)
    except (Stop, HandOver):
        raise
    except Exception:
        search.step_raised(s, out)
