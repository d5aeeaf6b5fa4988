"""The compiled engine's audits: its answers compared with the model's own methods.

Every memoised answer is confirmed once on the real state when it is traced;
on top of that the compiled successors of the first ``CROSS_CHECKED`` states,
and of a few states of every level (or one state in ``AUDIT_EVERY``), are
compared with ``model.successors``.  A difference hands the run to the
interpreted search: a compiled count that the model does not confirm is
never reported.
"""

from __future__ import annotations

from consensuslab.checkers.compiled.packing import Layout, Unsupported

#: states whose compiled successors are compared with ``model.successors`` on the real state
CROSS_CHECKED = 300
#: after those, one state in this many is compared again (an audit of memo hits)
AUDIT_EVERY = 4096
#: states of every level the level search compares
AUDITED_PER_LEVEL = 8


def expected_steps(model, layout: Layout, s: int) -> list:
    """``(label, successor)`` of packed state ``s`` from the model itself, sorted: what the memo must give."""
    return sorted((str(act), layout.encode(nxt)) for act, nxt in model.successors(layout.decode(s)))


def audited(s: int, compiled: list, expected: list) -> None:
    """Raise ``Unsupported`` (hand over) when the compiled steps of ``s`` are not the model's."""
    if compiled != expected:
        raise Unsupported("the compiled steps of a state differ from the model's successors (steps "
                          "outside the action table, or a read the memo did not record)")
