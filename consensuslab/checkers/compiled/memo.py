"""Memoised spec functions over packed states, grouped so that one look-up serves many.

A ``Unit`` is one pure function of the state (an action with its arguments, or
one conjunct of an invariant).  It is traced on a view (``checkers/compiled/views.py``)
the first time a new combination of the bits it reads turns up; afterwards its
answer is a dict look-up under ``state & unit.mask``.  Every traced answer is
checked once against a real call on the decoded state.

A ``Group`` serves several units with one look-up under the union of their
masks: the search makes one probe per group per state instead of one call per
action.  Groups are formed from the masks the units showed during a warm-up
(``grouping.py``).

A key is the union of every bit a unit's traces read, so a guard that fails
on two bits of most states, and reads every message on the others, would
miss on each new state.  A trace that read fewer bits (and filtered no set)
is kept under those bits as well, in the unit and in its group
(``Unit._keep_narrow``, ``Group._keep_narrow``).
"""

from __future__ import annotations

from typing import Any, Callable

from consensuslab.checkers.compiled.packing import Layout, Overflow, Reshape, Unsupported
from consensuslab.checkers.compiled.records import mismatch
from consensuslab.checkers.compiled.views import Reads, StateView
from consensuslab.checkers.compiled.writes import encode_writes, writes_of

#: expansions with one group per unit, to learn the masks the grouping is planned from
WARMUP = 2000
#: tables of narrower keys a unit keeps reading after its key widened (``Unit.learn``)
OLDER_KEPT = 4
#: keys narrower than its own a unit keeps traces under (``Unit._keep_narrow``)
NARROW_KEPT = 4
#: views a branch's row keeps for its siblings (``share_branch_traces``): a level's traces, one row after another
SHARED_KEPT = 4096

_MISSING = object()
#: the memoised answer of an alternative (``Unit.clause``) that raised, on the view and on the real state: the
#: invariant raises there unless an alternative before it holds (``kernels.judge_part`` keeps their order)
RAISED = 2


def narrow_table(tables: list[tuple[int, dict]], reads: int) -> tuple[int, dict] | None:
    """The first of ``tables`` whose key holds every bit of ``reads``, else a new one keyed by ``reads`` (while
    there are fewer than ``NARROW_KEPT``), else None."""
    for found in tables:
        if not reads & ~found[0]:
            return found
    if len(tables) >= NARROW_KEPT:
        return None
    tables.append((reads, {}))
    return tables[-1]


class Unit:
    """One memoised function of the state."""

    __slots__ = ("name", "fn", "args", "label", "is_action", "layout", "mask", "table", "traced", "prepared",
                 "view_fn", "group", "filtered", "clause", "older", "subscribed", "shared", "piece", "whole", "narrow",
                 "answered_by")

    def __init__(self, name: str, fn: Callable, args: tuple, label: Any, is_action: bool, layout: Layout,
                 view_fn: Callable | None = None, clause: Any = None, piece: bool = False):
        self.name, self.fn, self.args, self.label, self.is_action = name, fn, args, label, is_action
        #: invariant pieces with one clause (not None) are alternatives: the invariant needs one of them to hold
        self.clause = clause
        #: a piece of an invariant: where it raises (on the view and on the state) the invariant fails, since the
        #: cut runs a check apart from the ones before it (``bool(s.q) and s.q[0] != 0``: the second raises only
        #: where the first is False), so its answer there is ``RAISED``, a failing one (``Group.miss``)
        self.piece = piece
        #: keyed by the whole state and answered by the real call (``wholesale.py``): its memo missed on nearly all
        self.whole = False
        #: what runs on views: ``fn`` recompiled with filtered iteration (``filtering.py``), or ``fn``
        self.view_fn = view_fn if view_fn is not None else fn
        self.group = None  # the group that answers for it (``Group``)
        self.filtered = False  # did the last trace iterate a set through a filter?
        self.layout = layout
        self.mask = 0
        self.table: dict[int, Any] = {}
        self.traced = 0
        #: traces computed ahead, elsewhere (``trace_helper.py``): packed state -> (answer, bits read)
        self.prepared: dict[int, tuple] = {}
        #: the tables of narrower keys, newest first (``learn``), and whether a trace ever filtered a set
        self.older: list[tuple[int, dict]] = []
        #: tables of traces that read fewer bits than the key and filtered no set (``_keep_narrow``)
        self.narrow: list[tuple[int, dict]] = []
        #: the bits the last ``_trace``'s answer depends on, for good (None: a key that may still widen in place)
        self.answered_by: int | None = None
        self.subscribed = False
        #: packed state -> (the fields handed whole, the view) of the traces of its sibling branches' rows
        self.shared: dict[int, tuple] | None = None

    def value(self, packed: int):
        """For an action ``None`` or ``(written_mask, written_bits)``; for a property a bool."""
        r = self.table.get(packed & self.mask, _MISSING)
        if r is _MISSING:
            r = self._trace(packed)
        return r

    def _narrower(self, packed: int) -> tuple[Any, int]:
        """The answer a table of a narrower key holds for ``packed``, and that key; ``(_MISSING, 0)`` where none
        does.  Learnt under a narrower key, an answer is right for every state the key matches."""
        for tables in (self.narrow, self.older):
            for mask, table in tables:
                out = table.get(packed & mask, _MISSING)
                if out is not _MISSING:
                    return out, mask
        return _MISSING, 0

    def _trace(self, packed: int):
        out, mask = self._narrower(packed)
        if out is not _MISSING:
            self.table[packed & self.mask] = out
            if self.prepared:  # a helper's trace of it is not taken in, as with one worker
                self.prepared.pop(packed, None)
            self.answered_by = mask
            return out
        ahead = self.prepared.pop(packed, None) if self.prepared else None
        self.answered_by = None
        if ahead is not None:
            return self.learn(packed, *ahead)
        out, reads = self.compute(packed)
        if not self.filtered and reads & ~self.mask == 0 and reads != self.mask:
            self._keep_narrow(packed, out, reads)
        out = self.learn(packed, out, reads)
        if not (self.filtered or self.subscribed):
            self.answered_by = reads
        return out

    def _keep_narrow(self, packed: int, out, reads: int) -> None:
        """Keep a trace that read less than the key under the bits it read, as well.

        Why: a guard that fails on the first bits it reads (PBFT's ``SendNewView`` outside a view change reads
        two bits of 190) answers every state with those bits, but the key holds every bit the traces that got
        past it read, so each new state missed (three traces in four of 42,000 read four bits or fewer).  Only
        a trace that filtered no set: its answer holds whatever elements are numbered later."""
        found = narrow_table(self.narrow, reads)
        if found is not None:
            found[1][packed & found[0]] = out

    def compute(self, packed: int, key: int | None = None) -> tuple[Any, int]:
        """``(answer, bits read)`` of a traced call on ``packed``, confirmed on the real state; nothing stored.

        ``key``: the unit's key mask where it is kept (by default ``self.mask``, in a helper the parent's); a field
        whose bits it holds is handed to the call as its real value (``StateView``)."""
        layout = self.layout
        if self.whole:
            return self._on_the_state(packed)
        whole = layout.whole_fields(self.mask if key is None else key)
        shared = self.shared
        sibling = shared.get(packed) if shared is not None else None
        if sibling is not None and sibling[0] is whole:
            view, reads = sibling[1], sibling[1]._reads  # a sibling branch's run of the action serves
        else:
            sibling = None
            reads = Reads()
            view = StateView(packed, layout, reads, whole)
        try:
            out = self.view_fn(view, *self.args)
            if self.is_action:
                changes = writes_of(out, view)
                out = None if changes is None else encode_writes(changes, layout)
            else:
                out = bool(out)
        except (Overflow, Reshape, Unsupported):
            raise
        except Exception as exc:
            if (self.clause is not None or self.piece) and self._raises(packed):
                return RAISED, reads.mask
            self.fn(layout.decode(packed), *self.args)  # the real call raises what the user should see
            raise mismatch(layout, reads.mask, f"{self.name} raised {type(exc).__name__} on a packed view but not "
                                               f"on the state itself") from exc
        self._confirm(packed, out, reads.mask)
        if shared is not None and sibling is None:
            if len(shared) >= SHARED_KEPT:
                shared.clear()
            shared[packed] = (whole, view)
        self.filtered = bool(reads.filters)
        if reads.filters:
            self.layout.subscriptions.subscribe(self, reads.filters)
            self.subscribed, self.older = True, []
        return out, reads.mask

    def _on_the_state(self, packed: int) -> tuple[Any, int]:
        """The real call's answer, keyed by every bit of the state: nothing to record, nothing to confirm."""
        layout = self.layout
        real = self.fn(layout.decode(packed), *self.args)
        if not self.is_action:
            return bool(real), layout.full
        if real is None:
            return None, layout.full
        after = layout.encode(real)
        written = packed ^ after
        return (written, after & written), layout.full

    def key_by_whole_state(self) -> None:
        """From now on answer on the decoded state, keyed by all of it (``wholesale.py``); what was learnt stays."""
        self.whole = True
        if self.table and not self.subscribed:  # as ``learn``: a filtered unit's old table would miss later elements
            self.older = [(self.mask, self.table)] + self.older[:OLDER_KEPT - 1]
        self.mask, self.table = self.layout.full, {}
        if self.group is not None:
            self.group.rekey(self.group.mask | self.mask)

    def learn(self, packed: int, out, reads: int):
        """Store a trace's answer under the bits read (widening the key when it read more).

        A wider key starts a new table.  The old one stays to be read (``OLDER_KEPT`` of them): each
        entry's answer depends only on bits its key holds, so it is right for any state that matches it.
        Why: a lazy ``all(...)`` or ``a == b`` reads further on some states, and each widening used to
        throw every entry away (EWD840's step units: 2,431 traces for 1,001 entries).  Not for a unit
        whose trace filtered a set: an element numbered later widens its key in place (``widen_fresh``),
        and a table it left behind would not know of it.
        """
        self.traced += 1
        if reads & ~self.mask:
            if not self.subscribed and self.table:
                self.older = [(self.mask, self.table)] + self.older[:OLDER_KEPT - 1]
            self.mask |= reads
            self.table = {}
        self.table[packed & self.mask] = out
        self.layout.subscriptions.check()
        return out

    def widen_fresh(self, bit: int) -> None:
        """Add the bit of an element numbered after every entry was learnt: the entries stay right (it was
        absent from each state they were learnt on, and their keys hold it as 0)."""
        self.mask |= bit
        if self.group is not None:
            self.group.widen_fresh(bit)

    def _raises(self, packed: int) -> bool:
        try:
            self.fn(self.layout.decode(packed), *self.args)
        except Exception:
            return True
        return False

    def _confirm(self, packed: int, out, read: int) -> None:
        """The traced answer must be what the function says on the real state (``read``: the bits it read)."""
        state = self.layout.decode(packed)
        real = self.fn(state, *self.args)
        if self.is_action:
            if real is None or out is None:
                same = real is None and out is None
            else:
                same = self.layout.encode(real) == (packed & ~out[0]) | out[1]
        else:
            same = bool(real) == out
        if not same:
            raise mismatch(self.layout, read, f"{self.name} answers differently on a packed view than on the state "
                                              f"(does it inspect the state's type?)")


def share_branch_traces(units: list[Unit]) -> None:
    """Give the rows of each branched action's branches, for the same arguments, one table of traced views.

    Why: each branch of a branched action is a row of its own, and each row's trace ran the whole action on its
    own view (PaxosCommit's ``Decide``: 38,442 traces, 3.7 s of an 8.4 s run).  Handed the view a sibling was
    traced on, a row takes the action's items from that run (``spec_table.BranchRuns``), and its key holds
    every bit the run read.  Never in a helper (``helper.py``), which undoes numbers its traces gave.
    """
    shared: dict = {}
    for u in units:
        runs = getattr(u.fn, "branch_runs", None)
        if runs is not None:
            u.shared = shared.setdefault((id(runs), u.args), {})


class Group:
    """Units answered together under one key: the union of their masks."""

    __slots__ = ("units", "mask", "table", "full", "is_action", "grown", "clause", "narrow")

    def __init__(self, units: list[Unit], full: int, grown: list):
        self.units = units
        self.is_action = units[0].is_action
        self.clause = units[0].clause  # alternatives are grouped alone: ``(clause, [unit])``
        self.full = full
        self.mask = 0
        for u in units:
            self.mask |= u.mask
            u.group = self
        self.table: dict[int, Any] = {}
        self.grown = grown  # shared with the search: [True] after any group's key widened
        #: entries under keys narrower than the group's, where every unit's answer held for good (``miss``)
        self.narrow: list[tuple[int, dict]] = []

    def widen_fresh(self, bit: int) -> None:
        """As ``Unit.widen_fresh``: the entries stay."""
        if not self.mask & bit:
            self.mask |= bit
            self.grown[0] = True

    def rekey(self, mask: int) -> None:
        """Key the entries by ``mask`` from now on: a wider key starts a new table (the search's arrays follow)."""
        if mask != self.mask:
            self.mask = mask
            self.table = {}
            self.grown[0] = True

    def miss(self, packed: int):
        """The entry for ``packed`` (computed from the units and stored).

        Actions: ``(enabled, ((label, keep, bits), ...))`` where the successor is
        ``packed & keep | bits`` and steps known to lead back to ``packed`` are
        counted but left out.  Properties: whether every unit holds.
        """
        for narrow, table in self.narrow:
            entry = table.get(packed & narrow, _MISSING)
            if entry is not _MISSING:
                self.table[packed & self.mask] = entry
                return entry
        outs = []
        mask = self.mask
        held = 0  # the bits every unit's answer depends on for good (-1: one's key may still widen in place)
        for u in self.units:  # ``u.value`` inlined: most units of a group already know this key
            out = u.table.get(packed & u.mask, _MISSING)
            if out is _MISSING:
                out = u._trace(packed)
                by = u.answered_by
            else:
                by = None if u.subscribed else u.mask
            held = -1 if by is None or held < 0 else held | by
            outs.append(out)
            mask |= u.mask
        self.rekey(mask)
        entry = self._entry(packed, outs, mask)
        self.table[packed & mask] = entry
        if held >= 0 and held & ~mask == 0 and held != mask:
            self._keep_narrow(packed, held, outs)
        return entry

    def _keep_narrow(self, packed: int, held: int, outs: list) -> None:
        """Keep the entry under the bits its units' answers depend on, when fewer than the group's key: a guard's
        early exit (``Unit._keep_narrow``) then serves the group too, one look-up for all its units."""
        found = narrow_table(self.narrow, held)
        if found is not None:
            narrow, table = found
            table[packed & narrow] = self._entry(packed, outs, narrow)

    def _entry(self, packed: int, outs: list, mask: int):
        """The group's entry from its units' answers, for states that agree with ``packed`` on ``mask``."""
        if self.is_action:
            full = self.full
            enabled = 0
            steps = []
            for u, out in zip(self.units, outs):
                if out is None:
                    continue
                enabled += 1
                written, bits = out
                if written & ~mask == 0 and packed & written == bits:
                    continue  # a self-loop for every state with this key
                steps.append((u.label, full ^ written, bits))
            entry = (enabled, tuple(steps))
        elif self.clause is not None:
            entry = outs[0]  # an alternative is grouped alone, its answer kept as it is (it may be RAISED)
        else:
            entry = all(out is True for out in outs)  # a piece that raised (RAISED) fails
        return entry
