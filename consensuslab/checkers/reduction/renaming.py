"""Checking a normal form of unbounded values (``models.renaming``) against the protocol it stands for.

Two checks, both from the model alone:

* ``exactness_counterexample``: renaming is exact when a state and any
  order- and residue-preserving renaming of it behave alike.  For each given
  canonical state ``c`` it builds a non-canonical twin (every value spread
  apart, so gaps and magnitudes differ) and checks that the twin normalises
  to ``c``, that every property agrees on both, and that their steps
  correspond one to one: same actions up to the renaming, leading to states
  with the same normal form, with the same step-property verdicts.  It then
  takes each successor as the handlers make it and checks the same against
  its reduced form (dead data forgotten) and against its normal form, and
  that the renaming which produced the normal form keeps order and owners.
  A handler that does arithmetic on ballots, a renaming that does not keep
  their order or owners, or forgetting live data shows up here.
* ``lift`` / ``confirm_lifted``: a lasso of the normalised model is a cycle
  among canonical states; ``lift`` re-executes it with real values that keep
  growing (each new value above every value used so far, each lap a renamed
  copy of the previous one), and ``confirm_lifted`` checks fairness there,
  per real action: no weakly fair action is enabled throughout the lifted
  laps without being taken, none strongly fair is enabled in every lap and
  never taken.  With one lap more than the weak labels enabled where the
  cycle starts this is decisive for weak fairness: an action that stays
  enabled that long has a label that recurs at a lap start, so it stays
  enabled for ever.
"""

from __future__ import annotations

from consensuslab.errors import ReplayError, UsageError
from consensuslab.models.renaming import OrderedRenaming
from consensuslab.models.world import World
from consensuslab.traces.result import Trace


def has_renaming(model) -> bool:
    return isinstance(getattr(model, "normalise", None), OrderedRenaming)


def renaming_of(model) -> OrderedRenaming:
    norm = getattr(model, "normalise", None)
    if not isinstance(norm, OrderedRenaming):
        raise UsageError(f"{model.protocol}: this configuration has no normal form of renamed values")
    return norm


def spread(values, modulus: int, gap: int = 3) -> dict[int, int]:
    """An order- and residue-preserving renaming that is not the least one: ``v -> m * gap * (v + 1) + v mod m``."""
    return {v: modulus * gap * (v + 1) + v % modulus for v in values}


def exactness_counterexample(model, states, gap: int = 3) -> str | None:
    """The first way in which renaming (or forgetting) is not exact on ``states``; None when it is.

    ``states`` are canonical states of the normalised model.  For each, (a)
    a twin with its values spread apart must normalise back to it and behave
    alike; (b) each successor as the handlers make it (a new value made
    real, above every other) must behave like its reduced form and like its
    normal form, and the renaming that produced the normal form must keep
    order and residues.
    """
    norm = renaming_of(model)
    m = norm.modulus
    plain = [p for p in model.properties if p.kind != "always_step"]
    for c in states:
        values = norm.in_state(model, c)
        pi = spread(values, m, gap)
        r = norm.apply(model, c, pi)
        if values and r == c:
            return f"renaming {pi} leaves the state unchanged: rename() does not rename"
        if norm(World(model, r)) != c:
            return f"a renamed twin of state {c} has another normal form"
        problem = _alike(model, norm, plain, c, r, pi)
        if problem:
            return f"state and renamed twin: {problem}"
        for act, t in model.successors_before_normal_form(c):
            t = norm.apply(model, t, _made_real({v: v for v in values}, norm.in_state(model, t), m))
            reduced = t if norm.forget is None else norm.forget(World(model, t))
            if reduced != t:
                problem = _alike(model, norm, plain, t, reduced, None)
                if problem:
                    return f"after {act}, state and reduced form: {problem}"
            canon, f = norm.canonical(model, reduced)
            wrong = _not_a_renaming(f, m)
            if wrong:
                return f"after {act}: the normal form's renaming {f} {wrong}"
            problem = _alike(model, norm, plain, reduced, canon, f)
            if problem:
                return f"after {act}, state and normal form: {problem}"
    return None


def _made_real(known: dict, values, m: int, top: int | None = None) -> dict:
    """``known`` extended to the values a step created (``fresh`` ones): in their order, each the
    least number above ``top`` (default: every known image) with its residue."""
    out = dict(known)
    top = max(known.values(), default=-1) if top is None else top
    for v in sorted(set(values) - set(known)):
        top += 1
        top += (v - top) % m
        out[v] = top
    return out


def _not_a_renaming(f: dict, m: int) -> str | None:
    pairs = sorted(f.items())
    if any(a % m != b % m for a, b in pairs):
        return "changes an owner (residue)"
    if any(b1 >= b2 for (_, b1), (_, b2) in zip(pairs, pairs[1:])):
        return "does not keep the order"
    return None


def _alike(model, norm, plain, a, b, pi) -> str | None:
    bad = _differs(model, plain, a, b)
    if bad:
        return f"property {bad} differs"
    return _same_steps(model, norm, a, b, pi)


def _differs(model, props, a, b) -> str | None:
    return next((p.name for p in props if model.holds(p, a) != model.holds(p, b)), None)


def _same_steps(model, norm, c, r, pi) -> str | None:
    """Steps of ``c`` and of its twin ``r`` correspond (actions renamed by ``pi``; None: equal actions)."""
    mine = {(act if pi is None else norm.rename_action(act, pi)): (act, nxt) for act, nxt in model.successors(c)}
    theirs = model.successors(r)
    if len(theirs) != len(mine):
        return f"state {c} has {len(mine)} steps, its twin {len(theirs)}"
    for act, nxt in theirs:
        if act not in mine:
            return f"the twin of state {c} can take {act}, which has no counterpart"
        own, own_next = mine[act]
        if nxt != own_next:
            return f"{own} and its counterpart {act} lead to states with different normal forms"
        for p in model.step_properties:
            if model.step_holds(p, c, own, own_next) != model.step_holds(p, r, act, nxt):
                return f"step property {p.name} tells {own} from its counterpart {act}"
    return None


def lift(model, trace: Trace, laps: int) -> tuple[Trace, list[dict]]:
    """The lasso with its cycle run ``laps`` times, in real values (none reused, each new one on top).

    Returns the real trace and, per state, the map from the canonical value
    to the real one.  Raises ReplayError where a step does not re-execute.
    """
    norm = renaming_of(model)
    m = norm.modulus
    c = trace.initial
    sigma = {v: v for v in norm.in_state(model, c)}
    top = max(sigma, default=-1)
    real = Trace(c)
    sigmas = [sigma]
    loop = len(trace) if trace.loop is None else trace.loop
    steps = list(trace.steps[:loop]) + list(trace.steps[loop:]) * laps
    for i, (act, c_next) in enumerate(steps, start=1):
        t = next((nxt for a, nxt in model.successors_before_normal_form(c) if a == act), None)
        if t is None:
            raise ReplayError(f"lifted step {i}: {act} is not enabled", i)
        ext = _made_real(sigma, norm.in_state(model, t), m, top)
        top = max(ext.values(), default=top)
        raw = norm.apply(model, t, ext)
        if norm.forget is not None:
            raw = norm.forget(World(model, raw))
        canon, f = norm.canonical(model, raw)
        if canon != c_next:
            raise ReplayError(f"lifted step {i}: {act} leads elsewhere than the recorded state", i)
        real.steps.append((norm.rename_action(act, sigma), raw))
        sigma = {label: value for value, label in f.items()}
        sigmas.append(sigma)
        c = c_next
    return real, sigmas


def confirm_lifted(model, trace: Trace, laps: int | None = None) -> Trace:
    """Check that the lasso is a fair behaviour in real values; return the lifted trace.

    Raises ReplayError naming an action that the lifted behaviour keeps
    enabled and never takes.
    """
    from consensuslab.models.fairness import Classifier

    loop = len(trace) if trace.loop is None else trace.loop
    canonical = trace.states
    classifier = Classifier(model)
    if laps is None:
        at_loop = classifier.owed(canonical[loop], [a for a, t in model.successors(canonical[loop])
                                                    if t != canonical[loop]])
        laps = 1 + len({c for c in at_loop if not classifier.strong[c]})
    if loop == len(trace):
        laps = 1  # a dead end: the behaviour stays in its last state
    real, sigmas = lift(model, trace, laps)
    norm = renaming_of(model)
    cycle = len(trace) - loop
    states = real.states
    common, taken, per_lap_strong = None, set(), []
    for i in range(loop, len(states)):
        here = canonical_at(trace, i)
        enabled = classifier.owed(states[i], [norm.rename_action(a, sigmas[i])
                                              for a, t in model.successors(here) if t != here])  # stutters owe nothing
        weak = {c for c in enabled if not classifier.strong[c]}
        common = weak if common is None else common & weak
        lap = min((i - loop) // cycle, laps - 1) if cycle else 0  # the last state starts no new lap
        while len(per_lap_strong) <= lap:
            per_lap_strong.append(set())
        per_lap_strong[lap] |= enabled - weak
        if i < len(real) and real.steps[i][1] != states[i]:
            taken |= classifier.owed(states[i], [real.steps[i][0]])
    strong_always = set.intersection(*per_lap_strong) if per_lap_strong else set()
    missing = sorted(((common or set()) | strong_always) - taken)
    if missing:
        raise ReplayError(f"step {loop}: in real values the behaviour never takes an action it must take "
                          f"({classifier.describe(missing[0])}) over {laps} laps: not a fair behaviour", loop)
    return real


def canonical_at(trace: Trace, i: int):
    """The canonical state at position ``i`` of the lasso unrolled (positions past the end wrap into the cycle)."""
    n, loop = len(trace), trace.loop
    if i <= n:
        return trace.states[i]
    cycle = n - loop
    return trace.states[loop + (i - loop) % cycle]
