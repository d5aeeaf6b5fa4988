"""Small actor protocols for the packed actor search's tests, and how to compare two engines' results."""

from __future__ import annotations

from consensuslab import (
    Byzantine,
    CrashRecover,
    CrashStop,
    Fifo,
    MessageSoup,
    Omission,
    Param,
    Protocol,
    Scenario,
    Unordered,
    always,
    always_step,
    check,
    durable,
    evolve,
    forgeable,
    handles,
    initial,
    just,
    local,
    message,
    on_timer,
    send,
    set_timer,
    sometimes,
    state,
)
from consensuslab.models.network import PartialSynchrony

from replaying import replay_states


@message
class Job:
    n: int


@message
class Ack:
    n: int


@state
class Boss:
    sent: int = 0
    acked: frozenset = frozenset()


@state
class Hand:
    done: frozenset = durable(frozenset())
    owed: tuple = ()


@state
class Book:
    log: tuple = ()


class Shop(Protocol):
    """A boss hands out jobs round-robin; hands do them (one at a time, or all when their timer
    fires), acknowledge to the boss and record them in a book.  Every network and fault policy
    applies; ``watch`` makes a property read timers, the crashed set or the messages in flight."""

    name = "shop"
    params = {"hands": Param(2), "jobs": Param(2), "watch": Param("book")}

    def topology(self):
        return {"boss": ("b",), "hand": tuple(f"h{i + 1}" for i in range(self.hands)), "book": ("k",)}

    @initial("boss")
    def boss_init(self, ctx):
        return Boss()

    @initial("hand")
    def hand_init(self, ctx):
        return Hand()

    @initial("book")
    def book_init(self, ctx):
        return Book()

    @local("boss")
    def hand_out(self, s, ctx):
        if s.sent < self.jobs:
            hands = ctx.nodes("hand")
            return evolve(s, sent=s.sent + 1), send(hands[s.sent % len(hands)], Job(s.sent))

    @handles("boss", Ack)
    def acked(self, s, m, ctx):
        return just(evolve(s, acked=s.acked | {m.n}))

    @handles("hand", Job)
    def take(self, s, m, ctx):
        if m.n in s.done or m.n in s.owed:
            return just(s)
        return evolve(s, owed=s.owed + (m.n,)), set_timer("flush")

    @local("hand", choices=lambda self, s, ctx: s.owed)
    def do_one(self, s, ctx, n):
        return (evolve(s, owed=tuple(x for x in s.owed if x != n), done=s.done | {n}),
                (send("k", Job(n)), send("b", Ack(n))))

    @on_timer("hand", "flush")
    def flush(self, s, ctx):
        return (evolve(s, owed=(), done=s.done | set(s.owed)),
                tuple(send("k", Job(n))[0] for n in s.owed))

    @forgeable("hand")
    def forged(self, ctx):
        return (Job(7), Ack(7))

    @handles("boss", Job)
    def boss_ignores(self, s, m, ctx):
        return just(s)

    @handles("hand", Ack)
    def hand_ignores(self, s, m, ctx):
        return just(s)

    @handles("book", Ack)
    def book_ignores(self, s, m, ctx):
        return just(s)

    @handles("book", Job)
    def record(self, s, m, ctx):
        if m.n in s.log:
            return just(s)
        return just(evolve(s, log=s.log + (m.n,)))

    @always
    def genuine(self, w):
        """Broken by a forged job."""
        return all(n < self.jobs for n in w["k"].log)

    @always
    def in_order(self, w):
        """Broken when job 1 is recorded before job 0 (reads h1 only then: the reads grow mid-search)."""
        log = w["k"].log
        return not log or log[0] == 0 or 0 in w["h1"].done

    @always
    def watched(self, w):
        if self.watch == "timers":
            return len(w.timers("h2")) <= 1
        if self.watch == "crashed":
            return len(w.crashed) <= 1
        if self.watch == "flight":
            return len(w.in_flight) < 99
        if self.watch == "correct":
            return len(w.correct("hand")) >= 1
        return True

    @always_step
    def log_grows(self, before, action, after):
        b, a = before["k"].log, after["k"].log
        return a[:len(b)] == b

    @sometimes
    def all_recorded(self, w):
        return len(w["k"].log) == self.jobs

    def done(self, w):
        return len(w["k"].log) == self.jobs


NETWORKS = {"soup": MessageSoup(), "unordered": Unordered(), "lossy-dup": Unordered(duplicating=True, lossy=True),
            "fifo": Fifo(), "fifo-lossy": Fifo(lossy=True), "gst-drops": PartialSynchrony(Unordered(), drops=True),
            "gst-fifo": PartialSynchrony(Fifo(), drops=False)}
FAULTS = {"none": (), "crash-any": (CrashStop(1),), "crash-hand": (CrashStop(1, roles=("hand",)),),
          "recover": (CrashRecover(1, roles=("hand",)),), "omission": (Omission(1),),
          "byzantine": (Byzantine(("h2",), 1),), "mixed": (CrashRecover(1, roles=("hand",)), Omission(1))}


def shop(net: str, faults: str, **params):
    scenario = Scenario(f"{net}/{faults}", network=NETWORKS[net], faults=FAULTS[faults], deadlock=False)
    return Shop(params, None, scenario).compile()


def outcome(result) -> tuple:
    """What a user sees of a run: status, counts, depth, verdicts, and the counterexample by value."""
    v = result.violation
    trace = None if v is None or v.trace is None else (v.trace.initial, tuple(v.trace.steps), v.trace.loop)
    return (result.status, result.distinct_states, result.states_generated, result.depth,
            result.properties, None if v is None else (v.property, v.kind), trace)


def both(make, **options):
    """``(interpreted, packed)`` results of two fresh models from ``make``; the packed one must have run packed."""
    slow = check(make(), engine="interpreted", progress=False, **options)
    fast = check(make(), engine="compiled", progress=False, **options)
    assert fast.extra["engine"] == "compiled" and "packed actor search" in fast.extra["engine_reason"]
    assert slow.extra["engine"] == "interpreted"
    return slow, fast


def assert_same(make, **options):
    """Both engines give the same outcome; a counterexample replays on a fresh model."""
    slow, fast = both(make, **options)
    assert outcome(fast) == outcome(slow)
    if fast.violation is not None and fast.violation.trace is not None:
        replay_states(make(), fast.violation.trace)
    return fast
