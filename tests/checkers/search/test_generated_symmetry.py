"""Generated symmetric specs checked with and without ``--symmetry``: the orbit count is exact.

A seeded generator writes small specs that treat three nodes alike (a value per
node, a set of nodes, a counter; actions over any node, invariants over all of
them), with the ``permute`` a user would write.  With ``symmetry=True`` the
search must find exactly one state per orbit: the count is compared with the
orbits of every reachable state, computed here by brute force (the least image
under all six permutations); a violation must be found at the same depth, and
its counterexample must replay.
"""

from __future__ import annotations

import itertools
import random

import pytest

from consensuslab import check
from consensuslab.loader import import_file

from replaying import replay_states

#: specs per seed, and seeds
PER_SEED, SEEDS = 3, 12

HEADER = '''
from typing import NamedTuple
from consensuslab import Spec, action, always, record, replace_at


@record
class Sym(NamedTuple):
    a: tuple  # a value 0..2 per node
    b: frozenset  # a set of nodes
    c: int


class Base(Spec):
    Node = (0, 1, 2)
    symmetry = ("Node",)
    check_deadlock = False

    def permute(self, s, mapping):
        a = [None] * 3
        for n in self.Node:
            a[mapping[n]] = s.a[n]
        return Sym(tuple(a), frozenset(mapping[n] for n in s.b), s.c)
'''


class Writer:
    """Random specs that treat every node alike."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def atom(self, node: str | None) -> str:
        r = self.rng
        options = [f"len(s.b) {r.choice(['<', '>=', '=='])} {r.randrange(4)}",
                   f"s.c {r.choice(['==', '<', '>='])} {r.randrange(3)}",
                   f"sum(s.a) {r.choice(['<', '>=', '=='])} {r.randrange(7)}",
                   f"{r.choice(['all', 'any'])}(x {r.choice(['==', '!=', '<'])} {r.randrange(3)} for x in s.a)",
                   f"sum(1 for n in self.Node if n in s.b and s.a[n] == {r.randrange(3)}) < {r.randrange(1, 3)}"]
        if node is not None:
            options += [f"s.a[{node}] {r.choice(['==', '!=', '<'])} {r.randrange(3)}",
                        f"{node} {r.choice(['in', 'not in'])} s.b"]
        return r.choice(options)

    def cond(self, node: str | None, depth: int = 0) -> str:
        r = self.rng
        k = r.randrange(5 if depth < 2 else 2)
        if k < 2:
            return self.atom(node)
        if k == 2:
            return f"not ({self.cond(node, depth + 1)})"
        return f"({self.cond(node, depth + 1)} {r.choice(['and', 'or'])} {self.cond(node, depth + 1)})"

    def update(self) -> str:
        r = self.rng
        parts = {}
        for _ in range(r.randint(1, 2)):
            field = r.choice("aabc")
            if field == "a":
                parts["a"] = r.choice(["replace_at(s.a, i, (s.a[i] + 1) % 3)", f"replace_at(s.a, i, {r.randrange(3)})"])
            elif field == "b":
                parts["b"] = r.choice(["s.b | {i}", "s.b - {i}"])
            else:
                parts["c"] = r.choice(["min(2, s.c + 1)", "0", "min(2, len(s.b))"])
        return "s._replace(" + ", ".join(f"{k}={v}" for k, v in parts.items()) + ")"

    def spec(self, n: int) -> str:
        r = self.rng
        lines = [f"class Spec{n}(Base):", f'    name = "symmetric-{n}"', "", "    def init(self):",
                 "        yield Sym((0, 0, 0), frozenset(), 0)", ""]
        for k in range(r.randint(2, 4)):
            lines += ['    @action(i="Node")', f"    def Act{k}(self, s, i):",
                      f"        if {self.cond('i')}:", f"            return {self.update()}", ""]
        rare = f"({self.cond('n')} and {self.cond('n')} and {self.atom('n')})"
        lines += ["    @always", "    def Inv(self, s):",
                  f"        return not any({rare} for n in self.Node)", ""]
        return "\n".join(lines) + "\n"


def generated_module(tmp_path, seed: int):
    writer = Writer(random.Random(seed))
    source = HEADER + "\n\n" + "".join(writer.spec(n) for n in range(PER_SEED))
    path = tmp_path / f"symmetric_{seed}.py"
    path.write_text(source)
    return import_file(str(path)), source


def orbits(spec, model) -> int:
    """The orbits of every reachable state: the least image of each under all six permutations, counted."""
    seen, frontier = set(model.initial_states()), list(model.initial_states())
    while frontier:
        s = frontier.pop()
        for _, t in model.successors(s):
            if t not in seen:
                seen.add(t)
                frontier.append(t)
    maps = [dict(zip(spec.Node, p)) for p in itertools.permutations(spec.Node)]
    order = lambda s: (s.a, tuple(sorted(s.b)), s.c)  # total: sets compare by inclusion  # noqa: E731
    return len({min((spec.permute(s, m) for m in maps), key=order) for s in seen})


@pytest.mark.parametrize("seed", range(SEEDS))
def test_symmetry_finds_one_state_per_orbit_and_the_same_violations(tmp_path, seed):
    module, source = generated_module(tmp_path, seed)
    for n in range(PER_SEED):
        cls = getattr(module, f"Spec{n}")
        plain = check(cls().compile(), progress=False, engine="interpreted")
        reduced = check(cls().compile(), progress=False, symmetry=True)
        assert reduced.status == plain.status, (n, source)
        if plain.status == "ok":
            spec = cls()
            assert reduced.distinct_states == orbits(spec, spec.compile()), (n, source)
            assert reduced.distinct_states <= plain.distinct_states
        else:
            assert len(reduced.violation.trace.steps) == len(plain.violation.trace.steps), (n, source)
            states = replay_states(cls().compile(), reduced.violation.trace)
            assert not cls().Inv(states[-1]), (n, source)
