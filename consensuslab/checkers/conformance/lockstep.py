"""One model step applied to the implementation's nodes, and the two compared.

The model is an actor protocol: each step is a node's delivery, timer, local
step, crash or recovery (the implementation is asked to do the same), or the
network's loss or copy of a message (nothing to ask).  After each step the
acting node's state (through the adapter), its timers (if the adapter shows
them) and the messages it sent are compared with the model's.  What the model
sent is what joined the network: on a message soup, where sending a message
already there changes nothing, only the implementation's sends that are new
are compared, and all of them must be in flight afterwards.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from consensuslab.checkers.conformance.adapter import NotEnabled
from consensuslab.checkers.conformance.result import Divergence
from consensuslab.errors import ConsensuslabError, ModelError
from consensuslab.models.actor_model import ActorModel
from consensuslab.models.network import MessageSoup

MISSING = "<missing>"


class Lockstep:
    """Drives an adapter's nodes along the model's steps; ``start`` and ``step`` return a Divergence or None."""

    def __init__(self, model, adapter):
        if not isinstance(model, ActorModel):
            raise ModelError(f"{model.protocol}: conform drives actor protocols (nodes with handlers); "
                             f"this is a global-state spec")
        if model.normalise is not None:
            raise ModelError(f"{model.protocol}: its states are renamed to a normal form, which an "
                             f"implementation cannot follow; conform it without one")
        self.model, self.adapter = model, adapter
        adapter.topology = dict(model.topology)
        net = model.network
        self.idempotent = isinstance(net, MessageSoup) or isinstance(getattr(net, "inner", None), MessageSoup)

    # -- calling the user's code ----------------------------------------------------------
    def call(self, what: str, *args) -> tuple[Any, Divergence | None]:
        try:
            return getattr(self.adapter, what)(*args), None
        except NotEnabled as exc:
            return None, self.diverge(None, "refused", None, "enabled", "refused",
                                      f"the implementation refuses it ({exc})" if str(exc) else
                                      "the implementation refuses it")
        except ConsensuslabError:
            raise
        except Exception as exc:  # an implementation that crashes has diverged: the model did not
            return None, self.diverge(None, "raised", None, "a step", f"{type(exc).__name__}: {exc}",
                                      f"the implementation raised {type(exc).__name__}: {exc}")

    @staticmethod
    def diverge(node, what, field, model, impl, message) -> Divergence:
        return Divergence(0, node, what, field, model, impl, message)

    # -- the initial states -----------------------------------------------------------------
    def start(self, state) -> tuple[dict[str, Any], Divergence | None]:
        impls: dict[str, Any] = {}
        for node in self.model.nodes:
            impl, bad = self.call("create", node, self.model.role_of[node])
            if bad is not None:
                return impls, _at(bad, node)
            impls[node] = impl
        for node in self.model.nodes:
            bad = self.compare(impls, node, state)
            if bad is not None:
                return impls, bad
        return impls, None

    # -- one step -----------------------------------------------------------------------
    def step(self, impls: dict[str, Any], before, action, after) -> tuple[dict[str, Any], Divergence | None]:
        kind, node = action.kind, action.node
        if kind in ("drop", "duplicate", "gst", "forge", "crash"):
            return impls, None  # the network's doing, or a node that stops: nothing to ask of the code
        impls = dict(impls)
        role = self.model.role_of[node]
        if kind == "recover":
            impl, bad = self.call("recover", impls[node], node, role)
            sends = ()
        else:
            impl = impls[node] = self.adapter.copy(impls[node])
            if kind == "deliver":
                sends, bad = self.call("deliver", impl, node, action.args[0], action.args[1])
            elif kind == "timer":
                sends, bad = self.call("timer", impl, node, action.args[0])
            elif kind == "local":
                sends, bad = self.call("local", impl, node, action.name, action.args)
            else:
                raise ModelError(f"conform cannot drive a step of kind {kind!r} ({action})")
        if bad is not None:
            return impls, _at(bad, node)
        impls[node] = impl
        bad = self.compare(impls, node, after) or self.compare_sends(node, sends, before, action, after)
        return impls, bad

    # -- comparing -----------------------------------------------------------------------
    def compare(self, impls: dict[str, Any], node: str, state) -> Divergence | None:
        model = self.model
        local = state.locals[model.index[node]]
        expected, bad = self.call("expected", local, node)
        if bad is None:
            observed, bad = self.call("observe", impls[node], node, list(expected))
        if bad is not None:
            return _at(bad, node)
        for name in sorted(expected):
            got = observed.get(name, MISSING) if isinstance(observed, dict) else MISSING
            if got != expected[name]:
                return Divergence(0, node, "state", name, expected[name], got,
                                  f"{node}.{name}: the model has {expected[name]!r}, the implementation {got!r}")
        timers, bad = self.call("timers", impls[node], node)
        if bad is not None:
            return _at(bad, node)
        if timers is not None:
            mine = state.timers[model.index[node]]
            if set(timers) != set(mine):
                return Divergence(0, node, "timers", "timers", sorted(mine), sorted(timers),
                                  f"{node}'s timers: the model has {sorted(mine)}, the implementation {sorted(timers)}")
        return None

    def compare_sends(self, node: str, sends, before, action, after) -> Divergence | None:
        got = Counter((node, dst, msg) for dst, msg in _pairs(self.adapter, sends))
        flight_before = Counter(self.model.network.in_flight(before.net))
        flight_after = Counter(self.model.network.in_flight(after.net))
        if self.idempotent:
            model_new = set(flight_after) - set(flight_before)
            impl_new = {env for env in got if env not in flight_before}
            stray = [env for env in got if env not in flight_after]
            if impl_new == model_new and not stray:
                return None
            expected, observed = sorted(model_new, key=repr), sorted(impl_new | set(stray), key=repr)
        else:
            if action.kind == "deliver":
                flight_before[(action.args[0], node, action.args[1])] -= 1  # consumed by its delivery
            model_sent = flight_after - flight_before
            if +got == +model_sent:
                return None
            expected, observed = sorted(model_sent.elements(), key=repr), sorted(got.elements(), key=repr)
        return Divergence(0, node, "sends", "sent", _show(expected), _show(observed),
                          f"{node} sent {_show(observed)}; the model sends {_show(expected)}")


    def compare_enabled(self, impls: dict[str, Any], state, successors) -> Divergence | None:
        """Where the adapter says which spontaneous steps a node would take, they must be the model's."""
        for node in self.model.nodes:
            if node in state.down or node not in impls:
                continue
            mine, bad = self.call("enabled", impls[node], node)
            if bad is not None:
                return _at(bad, node)
            if mine is None:
                continue
            model = {(a.name, a.args) for a, _ in successors if a.kind == "local" and a.node == node}
            mine = {(name, tuple(args)) for name, args in mine}
            if mine != model:
                extra, missing = sorted(mine - model, key=repr), sorted(model - mine, key=repr)
                text = "; ".join(x for x in (
                    f"the implementation would take {_steps(extra)}, the model may not" if extra else "",
                    f"the model may take {_steps(missing)}, the implementation would not" if missing else "") if x)
                return Divergence(0, node, "enabled", "enabled", _steps(sorted(model, key=repr)),
                                  _steps(sorted(mine, key=repr)), f"{node}: {text}")
        return None


def _steps(steps) -> str:
    return ", ".join(name + (f"{args}" if args else "") for name, args in steps) or "nothing"


def _pairs(adapter, sends) -> list[tuple]:
    out = []
    for item in sends or ():
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise ModelError(f"adapter {type(adapter).__name__}: a step must return (destination, message) "
                             f"pairs, got {item!r}"[:300])
        out.append(item)
    return out


def _show(envs) -> list[str]:
    return [f"{dst} <- {msg}" for _, dst, msg in envs]


def _at(divergence: Divergence, node: str) -> Divergence:
    divergence.node = node
    return divergence
