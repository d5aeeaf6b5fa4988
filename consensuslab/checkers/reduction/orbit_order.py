"""The order that picks an orbit's representative: least content fingerprint, ties broken by ``canon``.

Any total order on states makes "the least image" a function of the orbit, so
every state of an orbit gets the same representative (in every process, on
every run, since nothing here depends on ``hash()`` or on discovery order).
This one is chosen to be cheap to compute for all images of a state at once:
a fingerprint built from its parts' fingerprints by sums and products modulo
2**64 (``structural.Shape`` computes it for every renaming as one numpy
vector, without building the images).  Equal fingerprints of different images
fall back to ``canon``, so a collision costs time, never a wrong choice.

- an atom (None, bool, int, str, bytes): a hash of its ``canon`` key;
- a record (named tuple, attrs class): its class name's hash plus the sum of
  ``position(i) * field_i``;
- a tuple: the same with a fixed tuple constant in place of the class;
- a frozenset: a set constant plus the sum of ``mix(element)`` (order-free).
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable

import attrs

from consensuslab.models.values import canon as canon_key

MASK = (1 << 64) - 1
C1, C2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB  # the splitmix64 finaliser's multipliers


def digest(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


TUPLE, SET = digest(b"tuple"), digest(b"frozenset")
_POSITIONS: list[int] = []


def position(i: int) -> int:
    """The odd multiplier of a record's field or a tuple's entry ``i``."""
    while len(_POSITIONS) <= i:
        _POSITIONS.append(digest(b"position %d" % len(_POSITIONS)) | 1)
    return _POSITIONS[i]


def class_constant(cls: type) -> int:
    return digest(b"record " + cls.__name__.encode())


def mix(z: int) -> int:
    """A set element's fingerprint, scrambled so that sums of different sets rarely meet."""
    z = ((z ^ (z >> 30)) * C1) & MASK
    z = ((z ^ (z >> 27)) * C2) & MASK
    return z ^ (z >> 31)


ATOMS = (type(None), bool, int, str, bytes)


def kind(value: Any) -> Any:
    """``"atom"``, ``"tuple"``, ``"set"``, a record's class, or ``"other"``: what decides how a value is renamed."""
    t = type(value)
    if t in ATOMS:
        return "atom"
    if t is tuple:
        return "tuple"
    if t is frozenset:
        return "set"
    if (issubclass(t, tuple) and hasattr(t, "_fields")) or attrs.has(t):
        return t
    return "other"


def field_names(cls: type) -> tuple[str, ...]:
    return tuple(cls._fields) if issubclass(cls, tuple) else tuple(f.name for f in attrs.fields(cls))


def record_fields(cls: type) -> tuple[Callable[[Any], tuple], Callable[[list], Any]]:
    """(value -> its fields in order, fields -> a new value) for a named tuple or an attrs class."""
    if issubclass(cls, tuple):
        return tuple, cls._make
    names = field_names(cls)
    return (lambda v: tuple(getattr(v, n) for n in names)), (lambda values: cls(*values))


class Fingerprints:
    """``fingerprint(value)``, remembered for field values and elements (they repeat across states)."""

    def __init__(self, kept: int = 1 << 20):
        self.memo: dict = {}
        self.kept = kept
        self.records: dict = {}  # class -> (fields of, its constant)

    def __call__(self, value: Any) -> int:
        k = kind(value)
        key = (type(value), value) if k == "atom" else value  # 1, True and 1.0 are different atoms
        found = self.memo.get(key)
        if found is not None:
            return found
        if k == "atom" or k == "other":
            fp = digest(repr(canon_key(value)).encode())
        elif k == "set":
            fp = (SET + sum(mix(self(e)) for e in value)) & MASK
        else:
            if k == "tuple":
                base, parts = TUPLE, value
            else:
                fields, base = self._record(k)
                parts = fields(value)
            fp = base
            for i, part in enumerate(parts):
                fp += position(i) * self(part)
            fp &= MASK
        if len(self.memo) >= self.kept:
            self.memo.clear()
        self.memo[key] = fp
        return fp

    def _record(self, cls: type) -> tuple[Callable, int]:
        found = self.records.get(cls)
        if found is None:
            found = self.records[cls] = (record_fields(cls)[0], class_constant(cls))
        return found


def least(images, fingerprint: Callable[[Any], int]):
    """The least of ``images`` in this module's order."""
    scored = [(fingerprint(image), image) for image in images]
    best = min(fp for fp, _ in scored)
    tied = {image for fp, image in scored if fp == best}
    return tied.pop() if len(tied) == 1 else min(tied, key=canon_key)
