"""``auto``'s choice between the compiled and the interpreted search: the probe, the race, the hand-over.

``checkers/run.py`` routes a check to its search; for a spec the compiled engine
can take, this module decides which of the two answers.  ``auto`` gives the
interpreted search up to ``PROBE_SECONDS`` first (a small search ends there, before
the compiled set-up would; past each ``PROBE_FIRST`` seconds the probe goes on only
where its levels show it may end in time; a user's spec whose lint reached ``RACE_AT`` states
is not small, and skips it); where fork and a second core allow, the probe then
goes on in a forked process, racing the compiled search (``search/rival.py``):
the first to finish answers, and a compiled search that hands over takes its
rival's result.  At the run's time limit or an interrupt, the one that got
further answers.  With ``--workers 2`` the same, the compiled search with its
threads and its helper process (without a race, it judged its speed on its own
levels, and on a spec it could not speed up it never handed over: Sailfish's
cfg took 65 s against 28 interpreted).  Elsewhere a compiled search that hands over is followed by the
interpreted search from the start.  Both engines give the same result, so which
one answered shows only in ``engine``, ``engine_reason`` and the time; except
under ``--max-states``, where they cut a level differently, so there ``auto``
neither probes nor races (``CUT``).
"""

from __future__ import annotations

import gc
import time

from consensuslab.checkers.search.ending import MAKE_WAY, RIVAL_FINISHED, Budget
from consensuslab.checkers.search.limits import LimitReached, stand_down
from consensuslab.errors import UsageError
from consensuslab.traces.result import CheckResult

#: ``auto`` first gives the interpreted search this long: a search it finishes in that time costs more in the
#: compiled search's set-up (each action traced once per key it reads: 1.5 s for paxos's 276-state
#: ``no-promise-check`` bug, against 0.06 s interpreted).  Both engines give the same result, so which one
#: answers never shows in it.
PROBE_SECONDS = 0.3
#: ... in slices of this many seconds: past each, the probe goes on only where its levels show it may end
#: within the rest (``Search.seconds_left``); a larger search starts the race there.  Why: the compiled search
#: of a larger one waited out the whole probe (paxos ballots=3 ``--property Consistency``: 1.31 s under ``auto``,
#: 1.03 s compiled, ``bench_speed.py --repeat 2``)
PROBE_FIRST = 0.1
#: with ``--engine compiled`` (or ``--workers 2`` without a race), the interpreted search scouts this long, for
#: the values its states hold, as a probe's (paxos compiled: no layout restart where there were six, A/B 0.96;
#: LamportMutex compiled A/B 1.10, its two early restarts cost less than the scout); not for a user's spec, whose lint
#: reached its first states already (``Model.first_reached``: classic Paxos compiled 0.68 s against 0.93)
SCOUT_SECONDS = 0.15
#: ``auto`` races the two engines where it can (``search/rival.py``); False: probe, then compile
RACING = True
#: a spec whose lint reached this many states (``Model.first_reached``) is larger than a probe finishes: ``auto``
#: races the two engines at once, the lint's states the compiled search's hint (classic Paxos: 1.10 s against
#: 1.48, SimpleRegular 0.86 against 1.19; ReadersWriters' 21,527 states, which the probe finished, 0.52 against
#: 0.45)
RACE_AT = 2000
#: the first states of the probe's (or scout's) whole levels, in the order it found them, whose values the
#: compiled search numbers before it starts (room for them, and filters that know them: paxos traced 32,351
#: calls, not 41,243 over six layout restarts).  How far the probe got varies, so the numbering may too; no
#: result depends on it, except which states a ``--max-states`` cut keeps (the least, packed): there no hint
HINT_STATES = 10000
#: seconds the rival gets, once the compiled search reached the run's time limit, to send its partial result
LATE_RIVAL_SECONDS = 2.0
#: ``_raced``'s answer when the run's time limit struck the compiled search before it had a result
TIMED_OUT = object()
#: ``auto``'s reason under ``--max-states``: no probe, no race, no hand-over on speed.  The two engines cut a level
#: differently (the same number of states, not the same states, depth or steps: docs/how-to/engines.md), so
#: which one answered must not depend on which was faster at that moment
CUT = ("the model compiles; with --max-states, auto takes the compiled search without timing the engines, "
       "which cut a level differently")
#: why a racing compiled search ended before its rival (``search/rival.py``'s ``keep_up``)
MADE_WAY = "the two searches neared the memory cap while the interpreted search was ahead"


def compiled_or_interpreted(model, search, progress, spill_after, engine, workers, *, max_states, max_depth,
                             time_limit) -> CheckResult:
    """The compiled engine where the model allows it (and, under ``auto``, where it pays), else the interpreted.

    ``auto`` gives the interpreted search ``PROBE_SECONDS`` first; where fork and a second core allow, it then
    goes on in a forked process, racing the compiled search (``search/rival.py``): the first to finish answers,
    and a compiled search that hands over takes its rival's result.  Elsewhere a compiled search that hands over
    is followed by the interpreted search from the start."""
    declined = None  # why a compiled run of this model handed over (reported in the JSON)
    budget = Budget(time_limit)
    why = "--engine interpreted"
    if engine != "interpreted":
        from consensuslab.checkers.compiled.support import unsupported_reason

        not_compilable = unsupported_reason(model, search, insist=engine == "compiled",
                                            spills=spill_after is not None)
        if not_compilable is None:
            result, declined = _compiled_first(model, search, progress, spill_after, engine, workers, budget,
                                               max_states, max_depth)
            if result is not None:
                return result
        if engine == "compiled":
            raise UsageError(f"--engine compiled: {not_compilable or declined}")
        why = f"not compiled: {not_compilable}" if declined is None else f"compiled search handed over: {declined}"
    return interpreted_instead(model, search, progress, spill_after, workers, budget, why, declined,
                               max_states=max_states, max_depth=max_depth)


def interpreted_instead(model, search, progress, spill_after, workers, budget, why: str, declined: str | None, *,
                        max_states, max_depth) -> CheckResult:
    """The interpreted search where a faster one declined or handed over (``declined`` says why), within what
    is left of ``budget``; ``seconds`` counts any abandoned attempt."""
    result = interpreted(model, search, progress, spill_after, workers, max_states=max_states,
                         max_depth=max_depth, time_limit=budget.left())
    result.extra["engine_reason"] = why
    if declined is not None:
        result.extra["compiled_declined"] = declined
        result.seconds = time.monotonic() - budget.started  # the abandoned attempt counts too
    return result


def _compiled_first(model, search, progress, spill_after, engine, workers, budget, max_states, max_depth) -> tuple:
    """The probe, then the compiled search, raced by the probe going on where it can: ``(the answer, None)``,
    or ``(None, why the compiled search handed over)`` for the interpreted search to run from the start."""
    by_speed = max_states is None  # a cut run's answer must not depend on which engine was faster (``CUT``)
    racing = by_speed and _racing(engine, workers, spill_after)
    probed, reached, paused = _probe(model, search, progress, engine, workers, budget, max_states, max_depth,
                                     racing)
    if probed is not None:
        return probed, None
    rival = None
    try:
        if racing:
            rival = _rival(paused, model, search, budget, max_states, max_depth, progress)
        del paused  # the rival's copy goes on; this one's states are freed here
        from consensuslab.checkers.compiled.engine import CompiledSearch  # after the fork: the rival needs none of it

        compiled = CompiledSearch(model, max_states, max_depth, budget.left(), progress, spill_after,
                                  insist=engine == "compiled", workers=workers, reached=reached, rival=rival,
                                  by_speed=by_speed)
        del reached
        result = _raced(compiled, rival)
        if result is TIMED_OUT or (rival is not None and result is not None and result.stopped_by == "time-limit"):
            del compiled
            return _further(None if result is TIMED_OUT else result, rival, budget), None
        if rival is not None and result is not None and result.stopped_by == "interrupted":
            del compiled
            return _further(result, rival, budget, interrupted=True), None
        if result is not None and result.stopped_by != RIVAL_FINISHED:
            result.extra["engine_reason"] = _compiled_reason(engine, rival, by_speed)
            result.seconds = time.monotonic() - budget.started  # the probe counts too
            return result, None
        declined = compiled.declined
        del compiled, result  # the abandoned attempt's memo and levels, freed before the interpreted search
        gc.collect()
        answer = rival.result() if rival is not None else None
        if answer is None:
            return None, declined
        answer.extra["engine"] = "interpreted"
        answer.extra["engine_reason"] = (
            "the interpreted search, racing the compiled search in a second process, finished first"
            if declined is None else
            f"compiled search handed over: {declined}; the interpreted search had been racing it in a second "
            f"process")
        if declined is not None:
            answer.extra["compiled_declined"] = declined
        answer.seconds = time.monotonic() - budget.started
        return answer, None
    finally:
        if rival is not None:
            rival.stop()


def _further(ours: CheckResult | None, rival, budget: Budget, interrupted: bool = False) -> CheckResult:
    """At the run's time limit, which both searches share, or at an interrupt, the partial result of the one
    that got further (``ours`` None: the limit struck the compiled search before it had a result).

    Why: a stopped run reports how far the check got; without the speed estimate's hand-over, a compiled
    search slower on the spec used the whole limit (pbft max_seq=2 in 60 s: 594,566 states compiled against
    2,147,923 interpreted), and a Ctrl-C answered with the compiled search's count, saying it had been faster."""
    overtaken = rival.stopped
    if interrupted:
        theirs, ended = rival.partial(), "an interrupt"  # told to stop, it sends what it covered
    else:
        stand_down()  # the limit is reached: the watchdog must not cut the wait for the rival's partial result
        theirs, ended = rival.result(within=LATE_RIVAL_SECONDS), "the time limit"  # its own limit ends it now
    if ours is None and theirs is None:
        raise LimitReached("time-limit")  # neither has a count: the run reports the limit as it always did
    if ours is None or (theirs is not None and theirs.distinct_states > ours.distinct_states):
        answer, engine = theirs, "interpreted"
        why = (f"{ended} ended both searches, and the interpreted search, racing the compiled search in a "
               f"second process, had found more states")
    else:
        answer, engine = ours, "compiled"
        why = (f"{ended} ended both searches, and the compiled search had found more states than the "
               f"interpreted search racing it in a second process" if theirs is not None else
               f"the model compiles; {ended} ended the compiled search" +
               (", after it overtook the interpreted search racing it" if overtaken else ""))
    answer.extra["engine"], answer.extra["engine_reason"] = engine, why
    answer.seconds = time.monotonic() - budget.started
    return answer


def _raced(compiled, rival) -> CheckResult | None:
    """``compiled.run()``; with a rival, armed to stop wherever the rival's end is raised, and None when the
    rival finished first (its answer is the run's, whatever the compiled search made of the raise) or when the
    compiled search made way for it (``compiled.declined`` says so); ``TIMED_OUT`` when the time limit struck
    before the compiled search had a result."""
    if rival is None:
        return compiled.run()
    result = None
    try:
        try:
            rival.arm()
            result = compiled.run()
        finally:
            rival.disarm()
    except LimitReached as exc:
        if exc.limit == MAKE_WAY:
            compiled.declined = MADE_WAY
            return None
        if exc.limit == "time-limit" and not rival.fired:
            return TIMED_OUT  # in the compiled set-up, which reads no budget: the rival may have got somewhere
        if exc.limit != RIVAL_FINISHED:
            raise
    except Exception:  # noqa: BLE001 - what the raise became in code it landed in (numpy: a TypeError)
        if not rival.fired:
            raise
    if rival.fired:
        compiled.declined = None
        return None
    if result is not None and result.stopped_by == MAKE_WAY:
        compiled.declined = MADE_WAY
        return None
    return result


def _racing(engine: str, workers: int, spill_after: int | None) -> bool:
    """Whether the interpreted search is forked to race the compiled one (``auto``, no spilling)."""
    if engine != "auto" or spill_after is not None or not RACING:
        return False
    from consensuslab.checkers.search.rival import can_race

    return can_race()


def _rival(paused, model, search, budget, max_states, max_depth, progress):
    """The rival: the probe's own search going on where it stopped, or (no probe to resume) a new one."""
    from consensuslab.checkers.search.explicit import Search
    from consensuslab.checkers.search.rival import Rival

    if paused is None:
        paused = Search(model, search, max_states, max_depth, None, False, None)
    return Rival(paused, budget.left(), progress)


def _compiled_reason(engine: str, rival, by_speed: bool) -> str:
    if engine == "compiled":
        return "--engine compiled"
    if not by_speed:
        return CUT
    if rival is not None:
        return ("the model compiles and the compiled search was faster: it overtook the interpreted search "
                "racing it in a second process" if rival.stopped else
                "the model compiles and the compiled search was faster: it finished before the interpreted "
                "search racing it in a second process")
    return (f"the model compiles and the compiled search was not slower (the interpreted search, probed for up "
            f"to {PROBE_SECONDS} s, had not finished)")


def _probe(model, search, progress, engine, workers, budget, max_states, max_depth, racing: bool = False) -> tuple:
    """The interpreted search first, for ``PROBE_SECONDS`` (``auto`` with one worker, or racing) or
    ``SCOUT_SECONDS``; none where the lint's first states serve (a scout's, or a racing probe's on a spec they
    show is large):
    ``(its result, [], None)`` when it ends the run (a probe that finished; an interrupt or the run's limit), else
    ``(None, the first states it reached, the probe)``: the compiled layout numbers their values first
    (``HINT_STATES``), and when ``racing`` the probe, where it can resume, goes on as the rival (else None)."""
    from consensuslab.checkers.search.explicit import Search

    probing = engine == "auto" and (workers == 1 or racing) and PROBE_SECONDS > 0 and max_states is None
    hint = 0 if max_states is not None else HINT_STATES
    left = budget.left()
    if hint and model.first_reached and (not probing or (racing and len(model.first_reached) >= RACE_AT)):
        return None, list(model.first_reached[:hint]), None  # the lint's states serve: no scout, no probe
    if not probing and (not hint or (left is not None and left < 2 * SCOUT_SECONDS)):
        return None, [], None  # no scout: it would number nothing, or take a large share of a short run
    seconds = PROBE_SECONDS if probing else SCOUT_SECONDS
    limit = seconds if left is None else min(seconds, left)
    probe = Search(model, search, max_states, max_depth, min(limit, PROBE_FIRST) if probing else limit,
                   progress and probing, None).keep_levels()
    started = time.monotonic()
    result = probe.run()
    while probing and result.stopped_by == "time-limit" and probe.resumable():
        took = time.monotonic() - started
        ending = probe.seconds_left(took)
        if ending is None or ending > limit - took:
            break  # a larger search: the race starts now
        result = probe.resume(min(limit - took, PROBE_FIRST), keep_levels=True)  # it may end: one slice more
        result.seconds = time.monotonic() - started  # the whole probe, as one run's
    stopped = result.stopped_by
    own_limit = stopped == "time-limit" and (  # the probe's, not the run's
        left is None or time.monotonic() - budget.started < budget.time_limit)
    if own_limit or (not probing and stopped not in ("interrupted", "memory-limit")):  # a scout never answers
        return None, probe.reached_in_order(hint), probe if racing and own_limit and probe.resumable() else None
    ended = "finished" if stopped is None else f"stopped ({stopped})"
    result.extra["engine"] = "interpreted"
    result.extra["engine_reason"] = (f"the interpreted search {ended} within {seconds} s, sooner than the "
                                     f"compiled search's set-up")
    return result, [], None


def interpreted(model, search, progress, spill_after, workers, *, max_states, max_depth, time_limit) -> CheckResult:
    if workers > 1:
        from consensuslab.checkers.scale.workers import check_parallel
        result = check_parallel(model, workers, None, progress=progress, max_states=max_states,
                                max_depth=max_depth, time_limit=time_limit)
    else:
        from consensuslab.checkers.search.explicit import Search
        result = Search(model, search, max_states, max_depth, time_limit, progress, spill_after).run()
    result.extra["engine"] = "interpreted"
    return result
