"""Transition properties judged over all the steps of a level at once, by the bits each reads of the two states.

Why: as one memoised unit per (property, action) (``steps.py``), a step's verdict was found per row whose key
was new, and that key held the action's reads as well as the property's.  Here a level's steps are made from
the action groups' tables (the level was just expanded, so they know its keys), and a property's key for each
step, ``(before & MB, after & MA)`` and the action where the property reads it, is looked up for every step
in numpy (``keyindex.py``).  ``MB`` and ``MA`` are what the property's traces read of each state, so
``[][decision = none]_decision`` is keyed by one field of each whichever action took the step.  Only a key
the table lacks is traced, once, on the first step that has it, and its verdict confirmed on the two real
states.  PBFT ``max_seq=2 --max-depth 9``: A/B 0.78; classic Paxos: 0.42 s of judging steps to 0.12.

A property whose trace filters a set or raises is handed back to its rows, which trace whole steps (and
report what raised on the real state); so is one that traces a key for most steps (``HAND_BACK_SHARE``),
where the rows' look-ups, or calls on the decoded state (``direct.py``), cost less.  A refinement is judged
apart (``refinement_steps.py``).
"""

from __future__ import annotations

import dis

import numpy as np

from consensuslab.checkers.compiled.filling import TRACES_BETWEEN_CHECKS, fill
from consensuslab.checkers.compiled.kernels import BLOCK, steps_by_parent
from consensuslab.checkers.compiled.keyindex import Extractor, KeyIndex, digits_of
from consensuslab.checkers.compiled.memo import Group, narrow_table
from consensuslab.checkers.compiled.packing import WORD, Overflow, Reshape, Unsupported
from consensuslab.checkers.compiled.records import mismatch
from consensuslab.checkers.compiled.views import Reads, StateView
from consensuslab.checkers.compiled.words import order_key, to_ints, words_for

U64 = np.uint64
#: a property is handed back to its rows once it has traced a key for more than this share of the steps
#: judged (after ``HAND_BACK_AFTER`` steps): each new key is a trace on two views and a call on the real states
HAND_BACK_SHARE = 0.5
HAND_BACK_AFTER = 20000
#: steps judged at a time (a block of states is cut to about this many steps: EWD840 makes 25 a state)
STEPS_PER_BLOCK = 1 << 19
MIN_BLOCK = 256
#: a table that has traced fewer keys is young: the first keys of this many missing steps are traced, and the
#: block looked up again (the first traces widen the masks, and every key with them)
YOUNG = 256
_TAG_BITS = 32  # an action's number in a key


class PairTable:
    """One transition property's verdicts: a row per key of a step (state before, state after, action)."""

    def __init__(self, prop, traced_prop, layout):
        self.name, self.prop, self.traced_prop, self.layout = prop.name, prop.fn, traced_prop, layout
        self.k = k = words_for(layout.bits)
        self.by_action = reads_its_action(prop.fn)  # keyed by the action too (``act.name == "Decide"``)
        self.read_before = self.read_after = 0  # what its traces read of each state: the masks of its keys
        self.tags: dict = {}  # action label -> its number in the keys (the search renumbers its rows)
        self.judged = self.traces = 0
        #: verdicts of traces that read less than the key, under what they read (``memo.narrow_table``): ``(mask,
        #: {(step bits, action or None): verdict})``, a step being ``before | after << WORD * k``
        self.narrow: list[tuple[int, dict]] = []
        self.narrowed = 0  # steps answered from them, not traced
        self.steps = np.zeros((0, 2 * k + 1), dtype=U64)  # the step each row was traced on, whole
        self.ok = np.zeros(0, dtype=bool)
        self.rekey()

    def rekey(self) -> None:
        """The rows keyed by what the traces read now.  A trace that read more widened the masks: rows with
        two keys under the narrower masks have two under the wider ones, and each row's verdict, traced on its
        step, read only bits the narrower masks held, so every row stays, under its step's wider key."""
        k = self.k
        self.keyed_by = (self.read_before, self.read_after)
        tag = ((1 << _TAG_BITS) - 1) << (2 * WORD * k) if self.by_action else 0
        mask = self.read_before | self.read_after << (WORD * k) | tag
        digits = digits_of(mask, WORD)
        # a key of at most 64 bits is gathered into one word: a 1-D key looks up and sorts as a number
        self.packed = Extractor(digits[0]) if len(digits) == 1 else None
        self.mask = np.array([(mask >> (WORD * j)) & ((1 << WORD) - 1) for j in range(2 * k + 1)], dtype=U64)
        self.keys = self.key(self.steps)
        self.index = KeyIndex((1 << self.packed.bits) - 1 if self.packed is not None else mask, self.keys)

    def key(self, steps: np.ndarray) -> np.ndarray:
        """The keys of ``steps`` (rows of ``2k + 1`` words): one word each, or rows of masked words."""
        return self.packed(steps) if self.packed is not None else steps & self.mask

    def stale(self) -> bool:
        return self.keyed_by != (self.read_before, self.read_after)

    def learn(self, steps: np.ndarray, ok: list[bool]) -> None:
        first = len(self.keys)
        keys = self.key(steps)
        self.steps = np.concatenate([self.steps, steps])
        self.keys = np.concatenate([self.keys, keys])
        self.ok = np.concatenate([self.ok, np.array(ok, dtype=bool)])
        if not first or not self.index.add(keys, first):
            self.index = KeyIndex(self.index.mask, self.keys)

    def trace(self, before: int, after: int, label) -> bool | None:
        """The verdict on one step, traced on views of the two states and confirmed on the real ones, the masks
        widened by what it read; None where the trace filtered a set or raised."""
        layout = self.layout
        reads = Reads(), Reads()
        try:
            out = bool(self.traced_prop(StateView(before, layout, reads[0], layout.whole_fields(self.read_before)),
                                        label,
                                        StateView(after, layout, reads[1], layout.whole_fields(self.read_after))))
        except (Overflow, Reshape, Unsupported):
            raise
        except Exception:  # noqa: BLE001 - the rows trace the whole step: the real state says what raised
            return None
        self.traces += 1
        if reads[0].filters or reads[1].filters:
            return None
        if bool(self.prop(layout.decode(before), label, layout.decode(after))) != out:
            raise mismatch(layout, reads[0].mask | reads[1].mask,
                           "a transition property answers differently on packed views than on the states")
        self.read_before |= reads[0].mask
        self.read_after |= reads[1].mask
        read = self._step(reads[0].mask, reads[1].mask)
        if read != self._step(self.read_before, self.read_after):  # it read less than the key: kept apart
            found = narrow_table(self.narrow, read)
            if found is not None:
                found[1][(self._step(before, after) & found[0], label if self.by_action else None)] = out
        return out

    def _step(self, before: int, after: int) -> int:
        """A step's two states (or two masks of them) as one integer, as the narrow tables key them."""
        return before | after << WORD * self.k

    def narrower(self, before: int, after: int, label) -> bool | None:
        """The verdict a trace that read less than the key left for this step's bits, or None.

        Why: a property that returns on its first test (``a == a2 and td == td2`` in EWD840's ``TDSpec_step``)
        reads a few bits on most steps, but its key holds every bit any trace read; 56% of EWD840's traced
        steps had the bits of an earlier trace that read less.  Its answer depends on those bits alone."""
        step, tag = self._step(before, after), label if self.by_action else None
        for mask, table in self.narrow:
            out = table.get((step & mask, tag))
            if out is not None:
                self.narrowed += 1
                return out
        return None


class StepPairs:
    """The level search's transition properties judged over whole levels (see the module docstring)."""

    def __init__(self, model, twin, layout, skip: frozenset = frozenset()):
        self.tables = [PairTable(p, twin.method(p.fn), layout) for p in model.step_properties if p.name not in skip]
        self.every = list(self.tables)  # handed back too: their traces still count (``traced``)
        self.per_state = 16  # steps per state in the last block judged

    def takes(self, unit) -> bool:
        """Whether ``unit`` (a transition property's row) is judged here, not in the memo's groups."""
        return any(unit.label == t.name for t in self.tables)

    def traced(self) -> int:
        return sum(t.traces for t in self.every)

    def failing(self, search, states: list[np.ndarray]) -> list[int]:
        """The packed states of a level (sorted runs) with a step some property forbids.  A property handed
        back has its rows' groups join ``search.step_groups``, which the caller then judges on the whole level."""
        if not self.tables:
            return []
        failing: set[int] = set()
        handed = []
        for block in self._blocks(states):
            parent, after, label, looping = steps_by_parent(block, fill(search, search.groups, block))
            self.per_state = max(1, len(parent) // max(len(block), 1))
            loops = np.flatnonzero(looping)
            for table in list(self.tables):
                steps = parent, after, label
                if len(loops):  # the steps back to the state itself, which the entries only count
                    back, labels = _loops(search, table, block, loops)
                    steps = (np.concatenate([parent, back]), np.concatenate([after, block[back]]),
                             np.concatenate([label, labels]))
                if not len(steps[0]):
                    continue
                bad = self._judge(search, table, block, *steps)
                if bad is None:
                    self.tables.remove(table)
                    handed.append(table.name)
                elif len(bad):
                    failing.update(to_ints(block[np.unique(steps[0][bad])]))
        search.step_groups += [Group([u], search.layout.full, search.grown) for u in search.step_units
                               if u.label in handed]
        return sorted(failing)

    def _blocks(self, pieces: list[np.ndarray]):
        """The states of ``pieces`` in blocks whose steps, at the last block's steps per state, number about
        ``STEPS_PER_BLOCK``: a block's steps are rows of ``2k + 1`` words, several arrays of them at once."""
        for piece in pieces:
            lo = 0
            while lo < len(piece):
                size = min(BLOCK, max(MIN_BLOCK, STEPS_PER_BLOCK // self.per_state))
                yield piece[lo:lo + size]
                lo += size

    def _judge(self, search, table: PairTable, block, parent, after, label) -> np.ndarray | None:
        """Indices of the steps the property forbids; None where it is handed back to its rows."""
        actions, k = search.actions, table.k
        tags = np.array([table.tags.setdefault(u.label, len(table.tags)) for u in actions], dtype=U64)
        steps = np.empty((len(after), 2 * k + 1), dtype=U64)
        steps[:, :k] = block[parent].reshape(len(after), -1)
        steps[:, k:2 * k] = after.reshape(len(after), -1)
        steps[:, -1] = tags[label]
        while True:
            if table.stale():
                table.rekey()
            keys = table.key(steps)
            rows = table.index.rows(keys)
            missing = np.flatnonzero(rows < 0)
            if not len(missing):
                break
            if table.traces < YOUNG:  # its masks still widen: no need to sort every step's key yet
                missing = missing[:YOUNG]
            traced, verdicts = [], []
            new = missing[first_of_each(keys[missing])]
            for i, b, a, act in zip(new.tolist(), to_ints(steps[new, :k]), to_ints(steps[new, k:2 * k]),
                                    label[new].tolist()):
                out = table.narrower(b, a, actions[act].label)
                if out is not None:
                    traced.append(i)
                    verdicts.append(out)
                    continue
                out = table.trace(b, a, actions[act].label)
                if out is None:
                    return None
                traced.append(i)
                verdicts.append(out)
                if table.traces % TRACES_BETWEEN_CHECKS == 0:
                    search.within_level()  # a level whose steps are mostly new can trace for minutes
                if table.stale():
                    break  # the keys change: the block is looked up again under the wider masks
            table.learn(steps[traced], verdicts)
        table.judged += len(steps)
        if table.judged > HAND_BACK_AFTER and table.traces > HAND_BACK_SHARE * table.judged:
            return None
        return np.flatnonzero(~table.ok[rows])


def first_of_each(rows: np.ndarray) -> np.ndarray:
    """The index of the first of each distinct key (a word, or a row of words: by a 64-bit mix of the words,
    checked exactly), in order."""
    if rows.ndim == 1:
        return np.sort(np.unique(rows, return_index=True)[1])
    _, first, inverse = np.unique(order_key(rows), return_index=True, return_inverse=True)
    if not np.array_equal(rows[first][inverse.reshape(-1)], rows):  # two rows share a mix: about never
        _, first = np.unique(rows, axis=0, return_index=True)
    return np.sort(first)


def _loops(search, table: PairTable, block: np.ndarray, loops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(index in block, label id)`` of the steps from the states ``block[loops]`` back to themselves.  A property
    that does not read its action needs one per state (any label serves); one that does, each action's."""
    if not table.by_action:
        return loops, np.zeros(len(loops), dtype=np.int32)
    back, labels = [], []
    ids = search.label_ids
    for i, packed in zip(loops.tolist(), to_ints(block[loops])):
        for group in search.groups:
            entry = group.table.get(packed & group.mask)
            if entry is None:
                entry = group.miss(packed)
            if entry[0] == len(entry[1]):
                continue
            listed = {lab for lab, _, _ in entry[1]}
            for u in group.units:
                out = None if u.label in listed else u.value(packed)
                if out is not None:  # enabled, and not listed: a step back to the state
                    back.append(i)
                    labels.append(ids[u.label])
    return np.array(back, dtype=np.int64), np.array(labels, dtype=np.int32)


def reads_its_action(prop) -> bool:
    """Does the property ``(s, act, t)`` (a method, or a function) use its action argument, as far as its code
    shows?  Anything unclear counts as using it."""
    fn = getattr(prop, "__func__", prop)
    code = getattr(fn, "__code__", None)
    if code is None:
        return True
    params = code.co_varnames[:code.co_argcount]
    if hasattr(prop, "__func__"):
        params = params[1:]
    if len(params) != 3 or code.co_flags & 0x0C:
        return True
    name = params[1]
    if name in code.co_cellvars or "locals" in code.co_names or "vars" in code.co_names:
        return True
    return any(ins.argval == name for ins in dis.get_instructions(code))
