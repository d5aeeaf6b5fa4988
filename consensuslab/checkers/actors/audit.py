"""The packed actor search's audits: its answers compared with the model's own methods.

The successors of the first ``CROSS_CHECKED`` states expanded, of
``AUDITED_PER_LEVEL`` states spread over each level and of one state in
``AUDIT_EVERY`` are compared with ``model.successors`` on the decoded state
(actions, order and states), and the memoised verdicts of every property on
those transitions with the property evaluated by the model.  A difference
raises ``HandOver``: the run goes to the interpreted search, and a count the
model does not confirm is never reported.
"""

from __future__ import annotations

CROSS_CHECKED = 300
AUDITED_PER_LEVEL = 8
AUDIT_EVERY = 4096


class HandOver(Exception):
    """The packed search cannot vouch for its answer; the interpreted search runs instead."""


def audit(search, s: int, out: list) -> None:
    """``out`` must be ``model.successors`` of the real state, and the memoised verdicts the model's."""
    search.audited += 1
    model, decode = search.model, search.layout.decode
    real = decode(s)
    expected = model.successors(real)
    if [(a, decode(t)) for a, t in out] != expected:
        raise HandOver("the packed successors of a state differ from the model's successors")
    for (act, t), (_, nxt) in zip(out, expected):
        for prop in search.invariants + search.witness_props:
            want = model.holds(prop.prop, nxt)  # first: a property that raises is the model's error
            if _verdict(prop.holds, t) != want:
                raise HandOver(f"the memoised verdict of {prop.prop.name} differs from the property's")
        for prop in search.step_props:
            want = model.step_holds(prop.prop, real, act, nxt)
            if _verdict(prop.holds, s, act, t) != want:
                raise HandOver(f"the memoised verdict of {prop.prop.name} differs from the property's")


def _verdict(holds, *args):
    """A memoised verdict, or None where the packed evaluation raised and the model's did not."""
    try:
        return holds(*args)
    except Exception:
        return None
