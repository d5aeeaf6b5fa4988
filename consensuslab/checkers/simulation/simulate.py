"""``simulate``: deep random exploration of any ``Model``, random walks then Hypothesis, shrunk failures.

Two phases, both deterministic for a given seed.  First ``random_walks``
(``walks.py``): many cheap swarm-configured random walks drawn straight from
cached successors (each an example; thousands a second on small models).
Then, if they found nothing, Hypothesis examples of the state machine
(``machine.py``), a second and differently distributed search.  Either way
the first failure is shrunk by replaying action values (``traces/shrink.py``),
so the trace is a real behaviour of the model that ``replay`` confirms.
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.stateful import run_state_machine_as_test

from consensuslab.checkers.simulation.defaults import (
    DEFAULT_EXAMPLES,
    DEFAULT_STEPS,
    DEFAULT_WALK_STATES,
    DEFAULT_WALKS,
)
from consensuslab.checkers.simulation.machine import Coverage, PropertyViolation, as_state_machine
from consensuslab.checkers.simulation.successors import Successors, declared_names
from consensuslab.checkers.simulation.walks import random_walks
from consensuslab.checkers.search.ending import Budget
from consensuslab.checkers.search.limits import STOPS, LimitReached, interrupted_by, signals_received, watchdog
from consensuslab.models.model import Model
from consensuslab.traces.result import CheckResult
from consensuslab.traces.shrink import shrunk_violation


def simulate(model: Model, examples: int = DEFAULT_EXAMPLES, steps: int = DEFAULT_STEPS,
             seed: int | None = 0, *, walks: int = DEFAULT_WALKS, walk_states: int | None = DEFAULT_WALK_STATES,
             on_state: Callable[[Any], None] | None = None, kinds: tuple[str, ...] | None = None,
             hypothesis_shrink: bool = False, time_limit: float | None = None) -> CheckResult:
    """Run up to ``walks`` random walks, then up to ``examples`` Hypothesis examples, each of up
    to ``steps`` actions; stop at the first failure and shrink it.

    Walks stop early once they have reached ``walk_states`` distinct states (None:
    no bound).  Deterministic for an integer ``seed`` (walks from a ``random.Random``
    seeded by a string; Hypothesis's ``@seed``, no example database, no deadline,
    no time-based health checks); ``seed=None`` draws fresh randomness.
    Hypothesis's shrinker re-runs the machine per candidate (tens of seconds for
    Paxos); by default we shrink by replaying action values instead (``shrink``);
    ``hypothesis_shrink`` runs both on a failure the Hypothesis phase finds.

    Limits: ``time_limit`` seconds and the process's memory cap, read every
    ``BUDGET_EVERY`` states of either phase (and a watchdog for a step that does not
    return); reaching one, or Ctrl-C, ends the run ``incomplete`` with the examples run so far.
    """
    budget = Budget(time_limit)
    on_state = _budgeted(budget, on_state)
    cov = Coverage()
    grouped = Successors(model)
    machine = as_state_machine(model, on_state=on_state, coverage=cov, kinds=kinds, successors=grouped)
    if seed is not None:
        machine = hypothesis_seed(seed)(machine)
    phases = (Phase.generate, Phase.shrink) if hypothesis_shrink else (Phase.generate,)
    config = settings(max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
                      derandomize=False, suppress_health_check=list(HealthCheck),
                      report_multiple_bugs=False, verbosity=Verbosity.quiet, print_blob=False,
                      phases=phases)
    started = cov.started = time.monotonic()
    violation, stopped_by, unshrunk, found_by = None, None, None, None
    rng = random.Random(f"consensuslab-walks:{seed}") if seed is not None else random.Random()
    signalled = signals_received()
    try:
        with watchdog(time_limit):
            found = random_walks(model, walks, steps, rng, cov, grouped, max_states=walk_states,
                                 on_state=on_state, kinds=kinds)
            if found is not None:
                found_by, violation = "walk", _shrunk(model, found.violation)
            else:
                try:
                    run_state_machine_as_test(machine, settings=config)
                except PropertyViolation as exc:
                    found_by, unshrunk = "hypothesis", len(exc.actions)
                    violation = _shrunk(model, exc.violation)
    except STOPS as exc:  # Ctrl-C, SIGTERM, a limit: the examples run so far are the result
        stopped_by = interrupted_by(exc)
    if stopped_by is None and violation is None and signals_received() > signalled:
        stopped_by = "interrupted"  # a library swallowed the interrupt: the run still did not finish
    seconds = time.monotonic() - started
    if violation is not None:
        status = "deadlock" if violation.kind == "deadlock" else "violation"
    else:
        status = "incomplete" if stopped_by else "ok"
    result = CheckResult(status=status, model_meta=model.meta(), distinct_states=len(cov.seen),
                         states_generated=cov.steps, depth=cov.depth, seconds=seconds,
                         violation=violation, search="simulate", stopped_by=stopped_by)
    result.properties = {p.name: ("violated" if violation and violation.property == p.name else "not-violated")
                         for p in model.invariants + model.step_properties}
    declared = declared_names(model)
    result.extra.update({
        "seed": seed, "examples": cov.examples, "steps": cov.steps,
        "walks": cov.walks, "hypothesis_examples": cov.examples - cov.walks,
        "max_walks": walks, "max_walk_states": walk_states, "max_examples": examples, "max_steps": steps,
        "found_by": found_by,
        "examples_to_failure": cov.first_failure_example,
        "seconds_to_failure": None if cov.first_failure_seconds is None else round(cov.first_failure_seconds, 3),
        "unshrunk_length": cov.first_failure_length, "hypothesis_length": unshrunk,
        "coverage": {"kinds": dict(sorted(cov.kinds.items())), "actions": dict(sorted(cov.names.items()))},
        "never_fired": [n for n in declared if n not in cov.names],
    })
    return result


#: states between two readings of the budget during a simulation
BUDGET_EVERY = 256


def _budgeted(budget: Budget, on_state: Callable[[Any], None] | None) -> Callable[[Any], None]:
    """``on_state`` that also reads ``budget`` every ``BUDGET_EVERY`` states and stops the run at a limit
    (or at an interrupt that Hypothesis or a finaliser swallowed)."""
    count = [0]

    def seen(state) -> None:
        count[0] += 1
        if count[0] % BUDGET_EVERY == 0:
            reason = budget.spent(count[0], 0, 0)
            if reason:
                raise LimitReached(reason)
        if on_state is not None:
            on_state(state)
    return seen


def _shrunk(model: Model, violation):
    """The shrunk violation; the one found, unshrunk, when a limit or Ctrl-C stops the shrinking."""
    try:
        return shrunk_violation(model, violation)
    except STOPS:
        return violation
