"""Actor protocols: nodes of named roles, per-role state, pure handlers, effects.

A protocol class declares its roles (``topology``), and handlers with
decorators::

    @initial(RM)                      (self, ctx) -> state | (state, effects)
    @handles(RM, Commit)              (self, s, m, ctx) -> (state, effects) | None
    @on_timer(RM, "timeout")          (self, s, ctx) -> (state, effects) | None
    @local(RM, choices=...)           (self, s, ctx[, choice]) -> (state, effects) | None
    @forgeable(RM)                    (self, ctx) -> messages a Byzantine RM may send

``None`` means "not enabled here" (the guard is false).  ``ctx.me`` is the
node running the handler and ``ctx.src`` the sender of the message being
handled, stamped by the network, never forged (``models.context.Ctx``).
Effects are ``send(dst, msg)``, ``broadcast(dsts, msg)``, ``set_timer(name)``,
``cancel_timer(name)``; ``just(state)`` is a result without effects.

The network and faults come from the scenario (``models.network``,
``models.faults``): on the default ``MessageSoup`` a delivered message stays
and may be delivered again, so handlers guard against re-delivery.
``ActorModel`` (in ``models.actor_model``) compiles it all.  Properties take a
``World`` (``w.states(role)``, ``w.items(role)``, ``w[node]``, ``w.in_flight``).
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Sequence

from consensuslab.models.actor_model import ActorModel
from consensuslab.models.definition import Definition
from consensuslab.models.network import MessageSoup, Network


def _mark(kind: str, role: str, extra: Any = None):
    def decorate(fn: Callable):
        fn.__consensuslab_actor__ = (kind, role, extra)
        return fn

    return decorate


def initial(role: str):
    """``(self, ctx) -> state | (state, effects)``: the initial local state of each node of ``role``."""
    return _mark("initial", role)


def handles(role: str, message_type: type):
    """``(self, s, m, ctx) -> (state, effects) | None``: a node of ``role`` receives an ``m`` of ``message_type``
    from ``ctx.src``.  Every message type a role can receive needs a handler (a ModelError names the missing one)."""
    return _mark("handles", role, message_type)


def on_timer(role: str, name: str):
    """``(self, s, ctx) -> (state, effects) | None``: the timer ``name`` (set with ``set_timer(name)``) fires."""
    return _mark("timer", role, name)


def local(role: str, choices: Callable | str | Sequence | None = None):
    """A spontaneous step; ``choices`` (a function of (self, s, ctx), an attribute name or a
    sequence) gives the finite set of arguments it may be taken with."""
    return _mark("local", role, choices)


def forgeable(role: str):
    """``(self, ctx) -> messages``: the finite universe of messages a Byzantine node of ``role`` may send
    (under the scenario's ``Byzantine(nodes, max_forged)`` fault), to anyone, as itself."""
    return _mark("forgeable", role)


class Protocol(Definition):
    """Base class of actor protocols."""

    #: the default network; a scenario may choose another
    network: ClassVar[Network] = MessageSoup()
    #: the default faults; a scenario may choose others
    faults: ClassVar[tuple] = ()

    def topology(self) -> dict[str, Sequence[str]]:
        """Role name -> node names, in a fixed order."""
        raise NotImplementedError

    def compile(self) -> ActorModel:
        return ActorModel(self)
