"""How a protocol's ``permute`` renames each place of a state, learnt from its answers (``--symmetry``).

``permute(state, mapping)`` is the protocol's own code, a black box, and the
least image of an orbit needs every renaming of a state: 144 calls per new
orbit for four replicas and three values.  But a renaming is structural.  An
atom is kept or renamed by one declared set; a record keeps its class and is
renamed field by field; a frozenset element by element; a tuple entry by
entry, or, when it is indexed by a declared set (one entry per node), also
with each entry moved to its node's new index.  ``Shape`` (``shape.py``) keeps, for every
place of the state (a path through records, tuples and sets), the rules of
those kinds still consistent with every image ``permute`` was seen to make,
and answers for a value only where all of them agree.  Elsewhere it answers
``UNKNOWN``: the caller asks ``permute`` and teaches the shape its answer
(``observe``); a ``permute`` outside these rules retires the shape.  It
answers every image's fingerprint at once (a numpy vector over the group,
from the parts' vectors, no image built), and the image a renaming makes.
"""

from __future__ import annotations

import numpy as np

from consensuslab.checkers.reduction.orbit_order import SET, TUPLE, class_constant, field_names, kind, record_fields
from consensuslab.checkers.reduction.renamings import OPTIONS, Group, combinations, mix_vector, placed, weighted_sum

UNKNOWN = object()  # "the rules still possible here disagree on this value"


class Place:
    """One place of the state: a node per kind of value seen there (an atom, a tuple, a set, a record class)."""

    def __init__(self, group: Group):
        self.group = group
        self.nodes: dict = {}  # kind -> node
        self.by_type: dict = {}  # type -> node (one probe on the hot path)

    def node(self, value):
        found = self.by_type.get(type(value))
        if found is None:
            found = self.by_type[type(value)] = self._node(kind(value))
        return found

    def _node(self, k):
        found = self.nodes.get(k)
        if found is None:
            if k == "other":
                found = Other()
            elif isinstance(k, str):
                found = {"atom": Atom, "tuple": Tuple, "set": Set}[k](self.group)
            else:
                found = Record(self.group, k)  # k: the record's class
            self.nodes[k] = found
        return found

    def vector(self, value):
        return self.node(value).vector(value)

    def image(self, value, k: int):
        return self.node(value).image(value, k)

    def observe(self, value, image, k: int) -> bool:
        return self.node(value).observe(value, image, k)

    def options(self, value, k: int):
        return self.node(value).options(value, k)


class Remembered:
    """Vectors and images remembered per value; only determined ones, which learning never changes."""

    def __init__(self, group: Group):
        self.group = group
        self.vectors: dict = {}
        self.images: dict = {}  # value -> its image under each renaming (None: not made yet)

    def image(self, value, k: int):
        row = self.images.get(value)
        if row is None:
            if len(self.images) >= self.group.kept:
                self.images.clear()
            row = self.images[value] = [None] * self.group.size
        found = row[k]
        if found is None:
            found = self.make_image(value, k)
            if found is not UNKNOWN:
                row[k] = found
        return found

    def vector(self, value):
        vec = self.vectors.get(value)
        if vec is None:
            vec = self.compute(value)
            if vec is None:
                return None
            if len(self.vectors) >= self.group.kept:
                self.vectors.clear()
            self.vectors[value] = vec
        return vec


class Atom(Remembered):
    def __init__(self, group: Group):
        super().__init__(group)
        self.rules = [-1] + list(range(len(group.sets)))  # -1: kept; j: renamed by set j

    def _outcomes(self, value, k: int) -> set:
        renamed = self.group.renamed
        return {value if r < 0 else renamed[r][k].get(value, value) for r in self.rules}

    def compute(self, value):
        g = self.group
        if value not in g.names:
            return g.constant(g.fingerprint(value))
        images = [self.image(value, k) for k in range(g.size)]
        if any(x is UNKNOWN for x in images):
            return None
        return np.array([g.fingerprint(x) for x in images], dtype=np.uint64)

    def image(self, value, k: int):
        if value not in self.group.names:
            return value
        if len(self.rules) == 1:
            r = self.rules[0]
            return value if r < 0 else self.group.renamed[r][k].get(value, value)
        outcomes = self._outcomes(value, k)
        return outcomes.pop() if len(outcomes) == 1 else UNKNOWN

    make_image = image

    def observe(self, value, image, k: int) -> bool:
        renamed = self.group.renamed
        self.rules = [r for r in self.rules if (value if r < 0 else renamed[r][k].get(value, value)) == image
                      and type(image) is type(value)]
        return bool(self.rules)

    def options(self, value, k: int):
        return self._outcomes(value, k)


class Other:
    """A value of a kind no rule covers: never answered; consistent only while ``permute`` keeps it as it is."""

    def vector(self, value):
        return None

    def image(self, value, k: int):
        return UNKNOWN

    def observe(self, value, image, k: int) -> bool:
        return image == value

    def options(self, value, k: int):
        return None


class Record(Remembered):
    def __init__(self, group: Group, cls: type):
        super().__init__(group)
        self.cls = cls
        self.fields_of, self.build = record_fields(cls)
        self.base = class_constant(cls)
        self.places: list[Place] = []
        self.buildable: bool | None = None  # can the class be rebuilt from its fields in order? (first value)
        self.names = field_names(cls)
        self.failed: str | None = None  # the field whose renaming no rule described

    def _places(self, n: int) -> list[Place]:
        while len(self.places) < n:
            self.places.append(Place(self.group))
        return self.places

    def _rebuilds(self, value) -> bool:
        """An attrs class with keyword-only or derived fields is not rebuilt from its fields: never answered."""
        if self.buildable is None:
            try:
                self.buildable = self.build(list(self.fields_of(value))) == value
            except Exception:  # noqa: BLE001 - any failure means: leave this class to permute
                self.buildable = False
        return self.buildable

    def compute(self, value):
        if not self._rebuilds(value):
            return None
        parts = self.fields_of(value)
        vecs = []
        for place, part in zip(self._places(len(parts)), parts):
            vec = place.vector(part)
            if vec is None:
                return None
            vecs.append(vec)
        return weighted_sum(self.group, self.base, vecs)

    def make_image(self, value, k: int):
        if not self._rebuilds(value):
            return UNKNOWN
        parts = self.fields_of(value)
        out = []
        for place, part in zip(self._places(len(parts)), parts):
            x = place.image(part, k)
            if x is UNKNOWN:
                return x
            out.append(x)
        return self.build(out)

    def observe(self, value, image, k: int) -> bool:
        if type(image) is not self.cls:
            return False
        parts, theirs = self.fields_of(value), self.fields_of(image)
        if len(parts) != len(theirs):
            return False
        for i, (place, a, b) in enumerate(zip(self._places(len(parts)), parts, theirs)):
            if not place.observe(a, b, k):
                self.failed = self.names[i] if i < len(self.names) else str(i)
                return False
        return True

    def options(self, value, k: int):
        parts = self.fields_of(value)
        return combinations([place.options(p, k) for place, p in zip(self._places(len(parts)), parts)],
                             self.build)


class Tuple(Remembered):
    """Entry by entry (``by_position``), or indexed by set j (``indexed[j]``: one rule for every entry)."""

    def __init__(self, group: Group):
        super().__init__(group)
        self.by_position: list[Place] | None = []
        self.indexed = {j: Place(group) for j, names in enumerate(group.sets)}

    def _fit(self, value) -> None:
        """A tuple whose length is not set j's size is not indexed by it (a fact, not a guess)."""
        for j in [j for j in self.indexed if len(self.group.sets[j]) != len(value)]:
            del self.indexed[j]
        if self.by_position is not None:
            while len(self.by_position) < len(value):
                self.by_position.append(Place(self.group))

    def compute(self, value):
        self._fit(value)
        g, found = self.group, []
        if self.by_position is not None:
            vecs = [place.vector(part) for place, part in zip(self.by_position, value)]
            if any(vec is None for vec in vecs):
                return None
            found.append(weighted_sum(g, TUPLE, vecs))
        for j, place in self.indexed.items():
            vecs = [place.vector(part) for part in value]
            if any(vec is None for vec in vecs):
                return None
            found.append(weighted_sum(g, TUPLE, vecs, g.multipliers[j]))
        if not found or any(not np.array_equal(found[0], other) for other in found[1:]):
            return None
        return found[0]

    def _images(self, value, k: int) -> list:
        self._fit(value)
        out = []
        if self.by_position is not None:
            out.append(tuple(place.image(part, k) for place, part in zip(self.by_position, value)))
        for j, place in self.indexed.items():
            entries = [None] * len(value)
            for i, dest in enumerate(self.group.moved[j][k]):
                entries[dest] = place.image(value[i], k)
            out.append(tuple(entries))
        return [UNKNOWN if any(x is UNKNOWN for x in image) else image for image in out]

    def make_image(self, value, k: int):
        images = self._images(value, k)
        if not images or any(x is UNKNOWN for x in images) or len(set(images)) != 1:
            return UNKNOWN
        return images[0]

    def observe(self, value, image, k: int) -> bool:
        if type(image) is not tuple or len(image) != len(value):
            return False
        self._fit(value)
        if self.by_position is not None and not all(
                place.observe(a, b, k) for place, a, b in zip(self.by_position, value, image)):
            self.by_position = None
        for j, place in list(self.indexed.items()):
            moved = self.group.moved[j][k]
            if not all(place.observe(value[i], image[moved[i]], k) for i in range(len(value))):
                del self.indexed[j]
        return self.by_position is not None or bool(self.indexed)

    def options(self, value, k: int):
        self._fit(value)
        found: set = set()
        modes = ([(self.by_position, None)] if self.by_position is not None else []) + [
            ([place] * len(value), self.group.moved[j][k]) for j, place in self.indexed.items()]
        for places, moved in modes:
            got = combinations([place.options(part, k) for place, part in zip(places, value)],
                                tuple if moved is None else placed(moved))
            if got is None:
                return None
            found |= got
        return found if len(found) <= OPTIONS else None


class Set(Remembered):
    def __init__(self, group: Group):
        super().__init__(group)
        self.elements = Place(group)
        self.mixed: dict = {}  # element -> mix of its vector

    def compute(self, value):
        g = self.group
        if not value:
            return g.constant(SET)
        vecs = []
        mixed = self.mixed
        for e in value:
            vec = mixed.get(e)
            if vec is None:
                raw = self.elements.vector(e)
                if raw is None:
                    return None
                vec = mix_vector(raw)
                if len(mixed) >= g.kept:
                    mixed.clear()
                mixed[e] = vec
            vecs.append(vec)
        return np.add.reduce(vecs) + np.uint64(SET) if len(vecs) > 1 else vecs[0] + np.uint64(SET)

    def make_image(self, value, k: int):
        out = []
        for e in value:
            x = self.elements.image(e, k)  # remembered by the element's node
            if x is UNKNOWN:
                return x
            out.append(x)
        return frozenset(out)

    def observe(self, value, image, k: int) -> bool:
        """Elements whose image is known are matched directly; the others by the one possible image left."""
        if type(image) is not frozenset or len(image) != len(value):
            return False
        left, pending = set(image), []
        for e in value:
            x = self.elements.image(e, k)
            if x is UNKNOWN:
                pending.append(e)
            elif x in left:
                left.remove(x)
            else:
                return False
        while pending:
            matched = False
            for e in list(pending):
                options = self.elements.options(e, k)
                if options is None:
                    continue
                candidates = options & left
                if not candidates:
                    return False
                if len(candidates) == 1:
                    x = candidates.pop()
                    if not self.elements.observe(e, x, k):
                        return False
                    left.remove(x)
                    pending.remove(e)
                    matched = True
            if not matched:
                break
        return True

    def options(self, value, k: int):
        return combinations([self.elements.options(e, k) for e in value], frozenset)
