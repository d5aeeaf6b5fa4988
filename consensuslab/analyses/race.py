"""The double-spend race: how likely an attacker with hash share q, z blocks behind, catches up.

Three answers that check one another:

* ``whitepaper`` -- section 11 of the Bitcoin paper, transcribed from its C code:
  the attacker's progress while the honest chain finds z blocks is taken to be
  Poisson with mean z*q/p, and from a deficit of d blocks it catches up with
  the gambler's-ruin probability (q/p)^d.  It reproduces the paper's tables.
* ``exact`` -- the same race without the Poisson approximation: the attacker's
  progress before the honest chain's z-th block is negative binomial,
  P(k) = C(k+z-1, k) p^z q^k (Rosenfeld 2014; Grunspan and Perez-Marco 2018
  show the sum equals the regularised incomplete beta I_{4pq}(z, 1/2)).
* ``simulate`` -- the race run on the ``nakamoto`` protocol model itself, with
  real hashcash blocks: each step applies the model's ``Mine`` action with
  probability p or ``AdversaryMine`` with probability q (``Model.apply``, the
  replay entry point, so the simulation shares the checker's semantics).
"""

from __future__ import annotations

import math
import random
import re

from consensuslab.errors import UsageError

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal
BIAS_TARGET = 1e-6
MAX_CUTOFF = 200


def check_q(q: float) -> None:
    if not 0 < q < 0.5:  # also rejects nan
        why = ("an attacker with at least half the hash power catches up with probability 1"
               if q >= 0.5 else "an attacker without hash power never mines a block"
               if q <= 0 else "not a number")
        raise UsageError(f"q={q} is outside (0, 0.5): {why}")


def whitepaper(q: float, z: int) -> float:
    """``AttackerSuccessProbability`` of the Bitcoin paper, operation for operation."""
    p = 1.0 - q
    lam = z * (q / p)
    total = 1.0
    for k in range(z + 1):
        poisson = math.exp(-lam)
        for i in range(1, k + 1):
            poisson *= lam / i
        total -= poisson * (1 - math.pow(q / p, z - k))
    return total


def exact(q: float, z: int) -> float:
    """P(attacker ever draws level) when its progress is negative binomial, not Poisson.

    Written as a sum of positive terms (catch-up from a deficit, plus the tail
    where it is already level), so tiny probabilities keep full precision.
    """
    if z == 0:
        return 1.0
    p, r = 1.0 - q, q / (1.0 - q)
    log_term = z * math.log(p)  # log NB(0) = log p^z
    terms, k = [], 0
    while True:
        term = math.exp(log_term)
        if k <= z:
            terms.append(term * r ** (z - k))  # behind by z-k: catch up with (q/p)^(z-k)
        else:
            terms.append(term)  # already level or ahead; NB terms fall from here on
            if term <= 1e-17 * terms[z]:
                break
        log_term += math.log(q * (k + z) / (k + 1))  # NB(k+1) / NB(k)
        k += 1
    return math.fsum(terms)


def cutoff_for(q: float) -> int:
    """Deficit at which a simulated run is called lost: the attacker still wins from there
    with probability (q/p)^cutoff, the most the estimate can be biased low."""
    r = q / (1.0 - q)
    return min(MAX_CUTOFF, max(1, math.ceil(math.log(BIAS_TARGET) / math.log(r))))


def wilson(successes: int, n: int, zc: float = Z95) -> tuple[float, float]:
    """Wilson's score interval: sensible at 0 and n successes, unlike the normal approximation."""
    if n == 0:
        return (0.0, 1.0)
    phat = successes / n
    denom = 1 + zc * zc / n
    centre = (phat + zc * zc / (2 * n)) / denom
    half = zc / denom * math.sqrt(phat * (1 - phat) / n + zc * zc / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the ends, not 1e-18
    return (low, 1.0 if successes == n else min(1.0, centre + half))


def race_model():
    """One honest miner against the adversary, budgets unbounded: the race, not the checker."""
    from consensuslab.protocols.nakamoto import Nakamoto

    return Nakamoto.configure({"miners": 1, "adversary_blocks": 10**9, "max_blocks": 10**9}).compile()


def simulate(q: float, z: int, runs: int, seed: int = 0, model=None) -> dict:
    """Estimate the catch-up probability by running ``runs`` seeded races on the model.

    A run waits until the honest chain has z blocks (the merchant's wait); it is
    won when the attacker's private chain is then at least as long, lost when it
    is ``cutoff`` blocks behind.
    """
    check_q(q)
    model = model or race_model()
    rng = random.Random(f"nakamoto-race:{seed}:{q!r}:{z}")
    cutoff = cutoff_for(q)
    start = model.initial_states()[0]
    # the two mining actions, as the model labels them; apply() runs only the chosen one
    labels = {act.name: act for act, _ in model.successors(start)}
    honest_mines, attacker_mines = labels["Mine"], labels["AdversaryMine"]
    wins = 0
    for _ in range(runs):
        state = start
        while True:
            honest, attacker = len(state.chains[0]), len(state.private)
            if honest >= z:
                if attacker >= honest:
                    wins += 1
                    break
                if honest - attacker >= cutoff:
                    break
            state = model.apply(state, attacker_mines if rng.random() < q else honest_mines)
    return {"simulated": wins / runs if runs else None, "ci95": list(wilson(wins, runs)),
            "runs": runs, "cutoff": cutoff, "bias_bound": (q / (1 - q)) ** cutoff}


def parse_z(text: str) -> list[int]:
    """``7``, ``0..10`` or ``0..50:5`` (inclusive bounds) to the list of z values."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:\.\.\s*(\d+)\s*(?::\s*(\d+)\s*)?)?", text)
    if not m:
        raise UsageError(f"--z {text!r}: expected N, A..B or A..B:STEP with non-negative integers")
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) is not None else lo
    step = int(m.group(3)) if m.group(3) is not None else 1
    if hi < lo or step < 1:
        raise UsageError(f"--z {text!r}: need A <= B and STEP >= 1")
    return list(range(lo, hi + 1, step))


def race_table(q: float, zs: list[int], runs: int = 0, seed: int = 0) -> dict:
    """The rows ``consensuslab nakamoto race`` prints: one per z, simulated where ``runs`` > 0."""
    check_q(q)
    if runs < 0:
        raise UsageError(f"--simulate {runs}: the number of runs must not be negative")
    model = race_model() if runs else None
    rows = []
    for z in zs:
        row = {"z": z, "whitepaper": whitepaper(q, z), "exact": exact(q, z)}
        if runs:
            row.update(simulate(q, z, runs, seed, model))
        rows.append(row)
    return {"q": q, "rows": rows}
