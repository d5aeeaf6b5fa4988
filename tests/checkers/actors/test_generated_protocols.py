"""Generated actor protocols checked by both engines: the same counts, verdicts and counterexample.

The bundled protocols, the newcomer's ring and ``actor_fixtures.Shop`` are
shapes someone here wrote.  Here a seeded generator writes small protocols as
a user might (two or three nodes with a counter and a set; a local step and
handlers for two message kinds that evolve the node on random conditions of
its state and the message, and send to the next node, to every node or to
nobody; a timer; invariants, a transition property and a witness over the
nodes' states), under every network of ``actor_fixtures`` and crash, recovery,
omission and Byzantine faults (n2 forging from a small universe), and each is
checked by the interpreted search and the packed actor search, within a
state budget (both stop at the same state: the packed search expands states in
the interpreted search's order).
"""

from __future__ import annotations

import random

import pytest

from consensuslab import Byzantine, CrashRecover, CrashStop, Omission, Scenario, check
from consensuslab.loader import import_file

from actor_fixtures import NETWORKS, outcome

#: protocols per seed, seeds, and the state budget of each check
PER_SEED, SEEDS, BUDGET = 2, 16, 1500

HEADER = '''
from consensuslab import (Protocol, always, always_step, evolve, forgeable, handles, initial, just, local, message,
                          on_timer, send, set_timer, sometimes, state)


@message
class Ping:
    x: int


@message
class Ack:
    x: int


@state
class Cell:
    v: int = 0
    seen: frozenset = frozenset()
'''


class Writer:
    """Random protocols over nodes holding ``v`` (0..2) and ``seen`` (a set of 0..2)."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def atom(self, with_message: bool) -> str:
        r = self.rng
        options = [f"s.v {r.choice(['==', '!=', '<', '>='])} {r.randrange(3)}",
                   f"{r.randrange(3)} {r.choice(['in', 'not in'])} s.seen",
                   f"len(s.seen) {r.choice(['<', '>='])} {r.randrange(1, 3)}"]
        if with_message:
            options += [f"m.x {r.choice(['==', '!=', '<', '>'])} {r.choice(['s.v', '0', '1', '2'])}",
                        f"m.x {r.choice(['in', 'not in'])} s.seen"]
        return r.choice(options)

    def cond(self, with_message: bool, depth: int = 0) -> str:
        r = self.rng
        k = r.randrange(5 if depth < 2 else 2)
        if k < 2:
            return self.atom(with_message)
        if k == 2:
            return f"not ({self.cond(with_message, depth + 1)})"
        op = r.choice(["and", "or"])
        return f"({self.cond(with_message, depth + 1)} {op} {self.cond(with_message, depth + 1)})"

    def change(self, with_message: bool) -> str:
        r = self.rng
        value = r.choice(["(s.v + 1) % 3", "0", "m.x" if with_message else "2"])
        seen = r.choice(["s.seen | {s.v}", "s.seen | {m.x}" if with_message else "frozenset()", "s.seen"])
        return f"evolve(s, v={value}, seen={seen})"

    def sends(self, with_message: bool) -> str:
        r = self.rng
        payload = r.choice(["s.v", "m.x" if with_message else "0", "(s.v + 1) % 3"])
        kind = r.choice(["Ping", "Ack"])
        return r.choice([
            f"send(self.next_of(ctx), {kind}({payload}))",
            f"send(self.next_of(ctx), {kind}({payload}))",
            f"tuple(send(n, {kind}({payload}))[0] for n in ctx.nodes('node') if n != ctx.me)",
            "()",
        ])

    def handler(self, kind: str, k: int) -> str:
        lines = [f'    @handles("node", {kind})', f"    def on_{kind.lower()}_{k}(self, s, m, ctx):",
                 f"        if {self.cond(True)}:", f"            return {self.change(True)}, {self.sends(True)}"]
        if self.rng.random() < 0.5:
            lines += [f"        if {self.cond(True)}:", "            return just(s)"]
        lines += [f"        return just({self.change(True)})"]
        return "\n".join(lines) + "\n"

    def timer(self) -> str:
        """A timer a Ping sets (when it changes nothing else) and that sends on when it fires."""
        return "\n".join([
            '    @handles("node", Ping)', "    def on_ping(self, s, m, ctx):",
            "        return evolve(s, v=m.x), set_timer('t')", "",
            '    @on_timer("node", "t")', "    def fire(self, s, ctx):",
            f"        if {self.cond(False)}:", f"            return {self.change(False)}, {self.sends(False)}",
            "        return just(s)"]) + "\n"

    def forgeries(self) -> str:
        """What a Byzantine node may send (used under the ``byzantine`` fault policy only)."""
        r = self.rng
        return "\n".join(['    @forgeable("node")', "    def forged(self, ctx):",
                          f"        return (Ping({r.randrange(3)}), Ack({r.randrange(3)}))"]) + "\n"

    def local_step(self) -> str:
        guard = self.cond(False) if self.rng.random() < 0.5 else \
            f"s.v != 2 or not ({self.cond(False)} and {self.cond(False)})"  # most often enabled
        return "\n".join(['    @local("node")', "    def tick(self, s, ctx):",
                          f"        if {guard}:",
                          f"            return {self.change(False)}, {self.sends(False)}"]) + "\n"

    def properties(self) -> str:
        r = self.rng
        over = r.choice(["all", "any"])
        rare = f"({self.cond(False)} and {self.cond(False)} and {self.atom(False)})"
        lines = ["    @always", "    def safe(self, w):",
                 f"        return not {over}({rare} for s in w.states('node'))"]
        if r.random() < 0.4:
            lines += ["", "    @always_step", "    def steady(self, before, action, after):",
                      "        return sum(s.v for s in after.states('node')) <= sum(s.v for s in before.states('node')) + 2"]
        if r.random() < 0.5:
            lines += ["", "    @sometimes", "    def seen_all(self, w):",
                      f"        return any({self.cond(False)} for s in w.states('node'))"]
        return "\n".join(lines) + "\n"

    def protocol(self, n: int) -> str:
        r = self.rng
        nodes = tuple(f"n{k + 1}" for k in range(r.randint(2, 3)))
        body = [f"class Protocol{n}(Protocol):", f'    name = "generated-{n}"', "",
                "    def topology(self):", f"        return {{'node': {nodes!r}}}", "",
                "    def next_of(self, ctx):", "        ring = ctx.nodes('node')",
                "        return ring[(ring.index(ctx.me) + 1) % len(ring)]", "",
                '    @initial("node")', "    def start(self, ctx):",
                f"        return Cell(v={r.randrange(3)} if ctx.me == 'n1' else 0)", ""]
        timed = r.random() < 0.3  # a Ping sets a timer instead
        body += [self.local_step(), self.timer() if timed else self.handler("Ping", 0), self.handler("Ack", 1),
                 self.properties(), self.forgeries()]
        return "\n".join(body) + "\n\n"


def generated_module(tmp_path, seed: int):
    writer = Writer(random.Random(seed))
    source = HEADER + "\n\n" + "".join(writer.protocol(n) for n in range(PER_SEED))
    path = tmp_path / f"generated_protocols_{seed}.py"
    path.write_text(source)
    return import_file(str(path)), source


#: fault policies that apply to any role
GENERAL_FAULTS = {"none": (), "crash-stop": (CrashStop(1),), "crash-recover": (CrashRecover(1),),
                  "omission": (Omission(1),), "crash-and-omission": (CrashStop(1), Omission(1)),
                  "byzantine": (Byzantine(("n2",), 1),)}


def configured(module, n: int, rng: random.Random):
    network, faults = rng.choice(sorted(NETWORKS)), rng.choice(sorted(GENERAL_FAULTS))
    scenario = Scenario(f"{network}/{faults}", network=NETWORKS[network], faults=GENERAL_FAULTS[faults],
                        deadlock=False)
    return lambda: getattr(module, f"Protocol{n}")({}, None, scenario).compile(), (network, faults)


@pytest.mark.parametrize("seed", range(SEEDS))
def test_generated_protocols_get_the_same_answer_from_both_engines(tmp_path, seed):
    module, source = generated_module(tmp_path, seed)
    rng = random.Random(seed)
    for n in range(PER_SEED):
        make, setting = configured(module, n, rng)
        slow = check(make(), engine="interpreted", progress=False, max_states=BUDGET)
        fast = check(make(), engine="compiled", progress=False, max_states=BUDGET)
        assert fast.extra["engine"] == "compiled", (fast.extra.get("engine_reason"), setting, source)
        assert outcome(fast) == outcome(slow), (n, setting, source)


COUNTER = '''
from consensuslab import Protocol, Unordered, always, evolve, handles, initial, just, local, message, send, state


@message
class Note:
    x: int


@state
class Clock:
    v: int = 0


class Piles(Protocol):
    """n1 sends the same note 17 times before n2 reads one: its count outgrows a count field of four bits."""

    name = "piles"
    network = Unordered()  # a count of copies per envelope

    def topology(self):
        return {"node": ("n1", "n2")}

    @initial("node")
    def start(self, ctx):
        return Clock()

    @local("node")
    def tick(self, s, ctx):
        if ctx.me == "n1" and s.v < 17:
            return evolve(s, v=s.v + 1), send("n2", Note(0))

    @handles("node", Note)
    def read(self, s, m, ctx):
        return just(evolve(s, v=s.v + 1))

    @always
    def few_reads(self, w):
        return w["n2"].v <= 17

    def done(self, w):
        return w["n2"].v == 17
'''


def test_a_count_of_an_envelope_numbered_during_the_search_widens_when_it_fills(tmp_path):
    """The guard bits of the counts covered only the envelopes numbered before the search: a later one's count
    carried into the next field at 16 copies, and the packed search explored states the protocol never reaches."""
    path = tmp_path / "piles.py"
    path.write_text(COUNTER)
    module = import_file(str(path))
    slow = check(module.Piles().compile(), engine="interpreted", progress=False)
    fast = check(module.Piles().compile(), engine="compiled", progress=False)
    assert fast.extra["engine"] == "compiled"
    assert fast.extra["compiled"]["network"] == "counts" and fast.extra["compiled"]["widenings"] >= 1
    assert outcome(fast) == outcome(slow)
    assert slow.status == "ok" and slow.distinct_states == 171  # (ticks, reads): 0 <= reads <= ticks <= 17
