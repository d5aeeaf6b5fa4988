"""Random walks: many cheap swarm-configured behaviours drawn straight from cached successors.

The first phase of ``simulate``: each walk is one example, thousands a second
on small models, deterministic for a seeded ``random.Random``.
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable

from consensuslab.checkers.simulation.machine import Coverage, PropertyViolation
from consensuslab.checkers.simulation.successors import UNCHECKED, Successors
from consensuslab.models.model import Model

#: Swarm testing for walks: each walk mutes each action kind and each action name with
#: one of these probabilities (one chosen per walk), so that walks favour different parts
#: of the protocol.  Uniform walks rarely string together the long runs of one kind of
#: step (deliveries, say, with no timeout between them) that deep bugs need.
WALK_MUTE = (0.1, 0.25, 0.5)
#: A walk ends once this many steps in a row led back to states it had already visited:
#: it is going round in circles (the same request and reply over and over, say).
WALK_STALL = 5
#: Walks that continue from a recently discovered state (its path kept as the walk's
#: prefix) rather than from an initial state, and how many such states are kept.
WALK_FORK = 0.5
WALK_POOL = 1024


def random_walks(model: Model, walks: int, steps: int, rng: random.Random, cov: Coverage, grouped: Successors,
                 *, max_states: int | None = None, on_state: Callable[[Any], None] | None = None,
                 kinds: tuple[str, ...] | None = None) -> PropertyViolation | None:
    """Up to ``walks`` random walks of up to ``steps`` actions each; the first violation, or None.

    No walk starts once ``cov.seen`` holds ``max_states`` distinct states: on a
    large configuration nearly every step reaches a new state, which costs a
    successor computation and memory, and the budget in walks alone would run long.

    Each step makes the Hypothesis machine's choices (a kind, then a name, then the
    action, each uniform among those enabled), but drawn from ``rng`` directly: no
    test-case buffer, and successors and property verdicts come cached from
    ``grouped``, so a step costs microseconds and many more, and longer, behaviours
    fit in the time Hypothesis takes for a few.  Each walk counts as one example
    in ``cov``.  Three things make walks go further than uniform ones:

    * swarm testing: a walk mutes each kind and each name with its probability
      from ``WALK_MUTE`` (decided when first met); a muted one is taken only while
      nothing unmuted is enabled;
    * a walk stops after ``WALK_STALL`` steps in a row that revisit its own states;
    * a fraction ``WALK_FORK`` of walks start from one of the last ``WALK_POOL``
      states reached for the first time, with the path that reached it as prefix
      (so every walk is still a behaviour from an initial state, at most ``steps`` long).

    Checks in the machine's order: step properties, deadlock, invariants.

    The hot loop of ``simulate``, kept in one function with its names local
    (measured with cProfile on a raft simulation of 2,000 walks: 19% of the
    run in its own lines, 84% with what it calls).
    """
    initials = list(model.initial_states())
    check_deadlock = model.check_deadlock
    has_step_props = bool(model.step_properties)
    allowed = set(kinds) if kinds is not None else None
    seen, kind_counts, name_counts = cov.seen, cov.kinds, cov.names
    rand, randrange = rng.random, rng.randrange
    pool: list[tuple] = []  # (initial, actions list, prefix length, state): lists only grow
    discovered = 0

    for _ in range(walks):
        if max_states is not None and len(seen) >= max_states:
            break
        cov.examples += 1
        cov.walks += 1
        mute = WALK_MUTE[randrange(len(WALK_MUTE))]
        muted_kinds: dict[str, bool] = {}
        muted_names: dict[str, bool] = {}
        if pool and rand() < WALK_FORK:
            initial, path, length, state = pool[randrange(len(pool))]
            actions = path[:length]
        else:
            state = initials[randrange(len(initials))] if len(initials) > 1 else initials[0]
            initial, actions = state, []
        visited: set = set()
        stale = 0
        for step in range(len(actions), steps + 1):
            # arrive in ``state``: record it, then check deadlock and invariants
            if state not in seen:
                seen.add(state)
                entry = (initial, actions, step, state)
                if len(pool) < WALK_POOL:
                    pool.append(entry)
                else:
                    pool[discovered % WALK_POOL] = entry
                discovered += 1
            if state in visited:
                stale += 1
            else:
                visited.add(state)
                stale = 0
            if on_state is not None:
                on_state(state)
            node = grouped(state)
            enabled = node.enabled
            if not enabled and check_deadlock and not model.is_done(state):
                return _failure(model, cov, initial, actions, "deadlock", "deadlock", "no action is enabled")
            if allowed is not None:
                enabled = {k: v for k, v in enabled.items() if k in allowed}
            if node.broken is UNCHECKED:
                node.broken = model.first_broken_invariant(state)
            if node.broken is not None:
                return _failure(model, cov, initial, actions, node.broken.name, "invariant")
            if step == steps or not enabled or stale >= WALK_STALL:
                break
            # take one step: a kind, a name, an action
            ks = list(enabled)
            if len(ks) > 1:
                ks = _unmuted(ks, muted_kinds, mute, rand)
            kind = ks[randrange(len(ks))] if len(ks) > 1 else ks[0]
            by_name = enabled[kind]
            names = list(by_name)
            if len(names) > 1:
                names = _unmuted(names, muted_names, mute, rand)
            name = names[randrange(len(names))] if len(names) > 1 else names[0]
            edges = by_name[name]
            edge = edges[randrange(len(edges))] if len(edges) > 1 else edges[0]
            actions.append(edge.action)
            cov.steps += 1
            kind_counts[kind] += 1
            name_counts[name] += 1
            if has_step_props:
                if edge.broken is UNCHECKED:
                    edge.broken = model.first_broken_step(state, edge.action, edge.state)
                if edge.broken is not None:
                    return _failure(model, cov, initial, actions, edge.broken.name, "transition")
            state = edge.state
        if len(actions) > cov.depth:
            cov.depth = len(actions)
    return None


def _failure(model: Model, cov: Coverage, initial, actions: list, prop: str, kind: str,
             message: str = "") -> PropertyViolation:
    cov.depth = max(cov.depth, len(actions))
    cov.first_failure_example, cov.first_failure_length = cov.examples, len(actions)
    cov.first_failure_seconds = time.monotonic() - cov.started
    return PropertyViolation(model, initial, actions, prop, kind, message)


def _unmuted(keys: list, table: dict, mute: float, rand) -> list:
    """The keys this walk has not muted (each decided when first met), or all of them when every one is."""
    out = []
    for key in keys:
        muted = table.get(key)
        if muted is None:
            muted = table[key] = rand() < mute
        if not muted:
            out.append(key)
    return out or keys
