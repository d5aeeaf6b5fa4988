"""Whether the compiled search pays, judged on the run's own evidence: its cost per state against the model's.

``auto`` must never keep the slower engine.  The compiled search times each
of its levels (tracing included), and samples what the interpreted search
would spend on a state of the same level: the model's own ``successors`` on
the real state, its properties on it, and a seen-set probe per step (the
interpreted search's whole work per state, bar a loop overhead measured once
here).  Once a level big enough to measure costs more per state compiled than
that estimate, the compiled search hands over; once a big level has shown it
cheaper, it stays (memo misses only get rarer as the memo fills).
"""

from __future__ import annotations

import time

#: a level must hold this many states for its cost per state to count as evidence
MIN_JUDGED = 1000
#: once a level of this many states was cheaper compiled, the compiled search stays
SETTLED = 20000
#: misses a state falling below this share of the last window's count as a warm-up
FALLING = 0.7
#: ... and so does a cost a state falling below this share of the last window's
COST_FALLING = 0.85
#: a first window this many times slower than the interpreted estimate, with at least ``FAR_MISSES`` traced
#: calls a state, hands over without waiting for a second (pbft max_seq=2: 10x slower, 45 calls a state; waiting
#: for a second window, through two layout restarts, cost 5 s).  Eight was tried: ReadersWriters NumActors = 4
#: with two workers (5.4x in the memo's warm-up, then faster than the interpreted search) stayed compiled, 26.5 s
#: against 36 s, but EWD998 max_counter=2 (5.3x, slower after the warm-up too) took 10.7 s against 4.5 s and
#: pbft's default 2.5 s against 1.9: the warm-up's cost does not tell them apart
FAR = 5.0
FAR_MISSES = 5.0
#: states of a level whose interpreted cost is sampled
SAMPLED = 8
#: the interpreted search's own cost per expanded state beyond the model's calls (its loop, parent links):
#: measured on two-phase rm=7, 1.6 us a state; taken lower so that the estimate never flatters it
LOOP_SECONDS = 1.0e-6


class Evidence:
    """Per-state costs of both engines, gathered as the compiled search goes."""

    def __init__(self, model, judging: bool):
        self.model = model
        self.judging = judging  # engine auto; ``compiled`` insists and only measures
        self.settled = not judging
        self.samples = 0
        self.interpreted_seconds = 0.0
        self.compiled_states = 0
        self.compiled_seconds = 0.0
        self.window = [0, 0.0, 0]  # states, seconds, traced calls of the levels not judged yet
        self.last: tuple | None = None  # the last judged window: (slower, traced calls a state, cost a state)
        self.verdict: str | None = None

    # -- the model's side ----------------------------------------------------------------
    def sample(self, states: list) -> None:
        """Time the interpreted search's work on these (decoded) states."""
        if self.settled:
            return
        model = self.model
        view = model.view
        props = [p.fn for p in model.invariants] + [p.fn for p in model.witnesses]
        probe: set = set()
        for state in states[:SAMPLED]:
            started = time.perf_counter()
            try:
                out = model.successors(state)
                v = view(state)
                for fn in props:
                    fn(v)
                for act, nxt in out:
                    if model.step_properties:
                        model.first_broken_step(state, act, nxt)
                    _ = nxt in probe
            except Exception:  # the searches report it; this only measures
                continue
            self.interpreted_seconds += time.perf_counter() - started + LOOP_SECONDS
            self.samples += 1

    def interpreted_per_state(self) -> float | None:
        return self.interpreted_seconds / self.samples if self.samples else None

    # -- the compiled side ---------------------------------------------------------------
    def level(self, states: int, seconds: float, traced: int, warm: bool = True,
              reshaped: bool = False) -> str | None:
        """Record a level's compiled cost and traced calls; the reason to hand over, or None to go on.

        Small levels are judged together, once they add up to ``MIN_JUDGED``
        states; while not ``warm`` (the memo's warm-up) only a far slower
        window hands over.  A window that costs more than the interpreted
        estimate hands over when the one before did too, unless its memo misses (traced calls
        a state) or its cost a state are falling: that is the warm-up of a memo
        that is about to pay, and abandoning it would cost both searches' time
        (SimpleRegular: 36, then 25 us a state against 23 interpreted, then 7).  A window in which units moved
        out of the memo (``reshaped``: keyed by the whole state, or called directly) paid their misses at the
        old cost, which the states to come no longer pay: it is not judged (ReadersWriters NumActors = 4 with
        two workers handed over at 107 us a state against 25, in the window ``ReadOrWrite`` moved).
        """
        self.compiled_states += states
        self.compiled_seconds += seconds
        self.window = [a + b for a, b in zip(self.window, (states, seconds, traced))]
        if self.settled or self.window[0] < MIN_JUDGED:
            return None
        theirs = self.interpreted_per_state()
        if theirs is None:
            return None
        states, seconds, traced = self.window
        self.window = [0, 0.0, 0]
        if reshaped:
            return None
        ours, misses = seconds / states, traced / states
        far = ours > FAR * theirs and misses >= FAR_MISSES
        if not warm and not far:
            # the memo's warm-up (a group per unit, every key new): only a far slower window counts (simple_regular
            # with two workers handed over at 34 us a state against 29, then ran at 8 us a state compiled)
            return None
        before, self.last = self.last, (ours > theirs, misses, ours)
        if ours <= theirs:
            if states >= SETTLED:
                self.settled = True
            return None
        if not far and (before is None or not before[0] or misses < FALLING * before[1]
                        or ours < COST_FALLING * before[2]):
            return None  # the first slower window since a cheaper one, or a warm-up: wait for the next
        self.verdict = (f"measured slower than the interpreted search: {ours * 1e6:.1f} us a state against "
                        f"{theirs * 1e6:.1f} us over {states:,} states, {misses:.1f} traced calls a state")
        return self.verdict if self.judging else None

    def describe(self) -> dict:
        theirs = self.interpreted_per_state()
        ours = self.compiled_seconds / self.compiled_states if self.compiled_states else None
        return {"compiled_us_per_state": None if ours is None else round(ours * 1e6, 2),
                "interpreted_us_per_state": None if theirs is None else round(theirs * 1e6, 2),
                "sampled_states": self.samples}
