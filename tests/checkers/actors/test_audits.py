"""The packed actor search is checked, not trusted: a wrong memo, an impure handler or property is caught
by the audits and the run goes to the interpreted search; what it does not pack is handed over with the reason."""

import itertools

import pytest

from consensuslab import (
    CrashStop,
    MessageSoup,
    Param,
    Protocol,
    Scenario,
    Unordered,
    always,
    check,
    evolve,
    handles,
    initial,
    just,
    local,
    message,
    send,
    state,
)
from consensuslab.checkers.actors import units
from consensuslab.errors import ModelError, UsageError
from consensuslab.models.network import PartialSynchrony
from consensuslab.protocols import protocol_class

from actor_fixtures import outcome, shop


def handed_over(make, **options):
    """The run of ``make()`` under auto: it must have gone to the interpreted search, with the same outcome."""
    auto = check(make(), progress=False, **options)
    slow = check(make(), engine="interpreted", progress=False, **options)
    assert auto.extra["engine"] == "interpreted"
    assert outcome(auto) == outcome(slow)
    return auto


def test_a_memo_that_drops_steps_is_caught_and_handed_over(monkeypatch):
    real = units.Deliver.compute

    def lossy(self, k):
        out = real(self, k)
        return out[1:] if self.node == "k" else out  # the book silently misses a delivery

    monkeypatch.setattr(units.Deliver, "compute", lossy)
    auto = handed_over(lambda: shop("soup", "none"))
    assert "packed successors of a state differ" in auto.extra["compiled_declined"]
    assert auto.extra["engine_reason"].startswith("the packed actor search handed over")
    with pytest.raises(UsageError, match="--engine compiled: .*differ"):
        check(shop("soup", "none"), engine="compiled", progress=False)


def test_a_memo_in_the_wrong_order_is_caught(monkeypatch):
    real = units.Local.compute
    monkeypatch.setattr(units.Local, "compute", lambda self, k: tuple(reversed(real(self, k))))

    def make():  # properties that hold: the search reaches hands owing two jobs (two local steps)
        model = shop("unordered", "none", jobs=3)
        model.select_properties(["log_grows", "all_recorded"])
        return model

    auto = handed_over(make)
    assert "differ" in auto.extra["compiled_declined"]


# -- impure code: the packed search runs a handler or property once, the audit runs it again ----------
CALLS = itertools.count()


@message
class Ping:
    pass


@state
class Counter:
    seen: int = 0


class Pure(Protocol):
    """A pinger pings twice; the ponger counts."""

    name = "pure"
    params = {"property_too": Param(False)}
    network = MessageSoup()

    def topology(self):
        return {"pinger": ("p",), "ponger": ("q",)}

    @initial("pinger")
    def p_init(self, ctx):
        return Counter()

    @initial("ponger")
    def q_init(self, ctx):
        return Counter()

    @local("pinger")
    def ping(self, s, ctx):
        if s.seen < 2:
            return evolve(s, seen=s.seen + 1), send("q", Ping())

    @handles("ponger", Ping)
    def pong(self, s, m, ctx):
        return just(evolve(s, seen=min(s.seen + 1, 3)))

    @always
    def calm(self, w):
        return w["q"].seen <= 3


class Impure(Pure):
    """``pong`` (or, with ``property_too``, ``calm``) answers differently on every call: not a function of
    its arguments."""

    name = "impure"

    @handles("ponger", Ping)
    def pong(self, s, m, ctx):
        if self.property_too:
            return just(s)
        return just(evolve(s, seen=next(CALLS) % 3))

    @always
    def calm(self, w):
        return not self.property_too or next(CALLS) < 3


def impure(**params):
    global CALLS
    CALLS = itertools.count()  # each run starts afresh, whatever ran before
    return Impure(params, None, Scenario("x", deadlock=False)).compile()


def test_an_impure_handler_is_caught_and_handed_over():
    r = check(impure(), progress=False)
    assert r.extra["engine"] == "interpreted" and "differ" in r.extra["compiled_declined"]


def test_an_impure_property_is_caught_and_handed_over():
    r = check(impure(property_too=True), progress=False)
    assert r.extra["engine"] == "interpreted"
    assert "calm" in r.extra["compiled_declined"] or "differ" in r.extra["compiled_declined"]


# -- what is not packed goes to the interpreted search, with the reason -----------------------------------
class Chatty(Unordered):
    """A user's network: not one the packed search knows."""


@pytest.mark.parametrize("make,reason", [
    (lambda: protocol_class("paxos-actors").configure({}, None, "dueling-proposers").model(), "normal_form"),
    (lambda: Pure({}, None, Scenario("x", network=PartialSynchrony(Chatty()), deadlock=False)).compile(),
     "network Chatty"),
    (lambda: Pure({}, None, Scenario("x", faults=(CrashStop(1), CrashStop(1)), deadlock=False)).compile(),
     "more than one crash fault"),
])
def test_what_is_not_packed_is_handed_over_with_the_reason(make, reason):
    model = make()
    model.select_properties([p.name for p in model.properties if p.kind == "always"][:1])
    r = check(model, progress=False, max_states=3000)
    assert r.extra["engine"] == "interpreted" and reason in r.extra["engine_reason"]
    assert r.extra["engine_reason"].startswith("not compiled: ")
    with pytest.raises(UsageError, match=f"--engine compiled: .*{reason}"):
        check(make(), engine="compiled", progress=False, max_states=10)


def test_depth_first_runs_interpreted():
    r = check(shop("soup", "none"), search="dfs", progress=False)
    assert r.extra["engine"] == "interpreted" and "breadth-first" in r.extra["engine_reason"]


# -- a model's own errors come out the same ---------------------------------------------------------------
@message
class Stray:
    pass


class Unhandled(Pure):
    name = "unhandled"

    @local("ponger")
    def stray(self, s, ctx):
        if not s.seen:
            return evolve(s, seen=1), send("p", Stray())


class Raising(Pure):
    name = "raising"

    @always
    def calm(self, w):
        return 1 // (2 - w["p"].seen) >= 0


@pytest.mark.parametrize("cls,message", [(Unhandled, "role pinger has no handler for Stray"),
                                         (Raising, "property calm raised ZeroDivisionError")])
def test_model_errors_are_the_interpreted_ones(cls, message):
    errors = []
    for engine in ("interpreted", "compiled"):
        with pytest.raises(ModelError, match=message) as info:
            check(cls({}, None, Scenario("x", deadlock=False)).compile(), engine=engine, progress=False)
        errors.append(str(info.value))
    assert errors[0] == errors[1]
