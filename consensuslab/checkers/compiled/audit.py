"""The compiled engine's audits: its answers compared with the model's own methods.

Every memoised answer is confirmed once on the real state when it is traced;
on top of that the compiled successors of the first ``CROSS_CHECKED`` states,
and of a few states of every level (or one state in ``AUDIT_EVERY``), are
compared with ``model.successors``, and the invariants, which the memo judged
to hold there, are evaluated whole on them.  A difference hands the run to the
interpreted search: a compiled count or verdict that the model does not
confirm is never reported.

Why the invariants whole: the memo judges an invariant by its pieces
(``splitting.py``), and each piece is confirmed only against itself, so a
piece cut wrongly would go unseen.  An early ``return True`` once guarded the
checks after it by the wrong polarity, and a violation past it was reported
``ok``.
"""

from __future__ import annotations

from consensuslab.checkers.compiled.packing import Layout, Unsupported

#: states whose compiled successors are compared with ``model.successors`` on the real state
CROSS_CHECKED = 300
#: after those, one state in this many is compared again (an audit of memo hits)
AUDIT_EVERY = 4096
#: states of every level the level search compares
AUDITED_PER_LEVEL = 8


#: what ``expected_steps`` gives, in place of the steps, for a state where an invariant does not hold or raises
BROKEN = "an invariant"


def expected_steps(model, layout: Layout, s: int) -> list | str:
    """``(label, successor)`` of packed state ``s`` from the model itself, sorted: what the memo must give; or
    ``BROKEN`` where an invariant fails or raises (the memo judged every invariant to hold on an audited state)."""
    state = layout.decode(s)
    try:
        if model.first_broken_invariant(state) is not None:
            return BROKEN
    except Exception:  # the interpreted search reports it
        return BROKEN
    return sorted((str(act), layout.encode(nxt)) for act, nxt in model.successors(state))


def audited(s: int, compiled: list, expected: list | str) -> None:
    """Raise ``Unsupported`` (hand over) when the compiled steps of ``s`` are not the model's, or the memo's
    verdict that every invariant holds on ``s`` is not."""
    if expected == BROKEN:
        raise Unsupported("an invariant does not hold on a state where its memoised pieces hold")
    if compiled != expected:
        raise Unsupported("the compiled steps of a state differ from the model's successors (steps "
                          "outside the action table, or a read the memo did not record)")
