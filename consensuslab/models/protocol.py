"""Actor protocols: nodes of named roles, per-role state, pure handlers, effects.

A protocol class declares its roles (``topology``), and handlers with
decorators::

    @initial(RM)                      (self, ctx) -> state | (state, effects)
    @handles(RM, Commit)              (self, s, m, ctx) -> (state, effects) | None
    @on_timer(RM, "timeout")          (self, s, ctx) -> (state, effects) | None
    @local(RM, choices=...)           (self, s, ctx[, choice]) -> (state, effects) | None
    @forgeable(RM)                    (self, ctx) -> messages a Byzantine RM may send

``None`` means "not enabled here" (the guard is false).  ``ctx.src`` is the
sender of the message being handled, stamped by the network, never forged.
The network and faults come from the scenario (``models.network``,
``models.faults``); ``ActorModel`` (in ``models.actor_model``) compiles it all.
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
    return _mark("initial", role)


def handles(role: str, message_type: type):
    return _mark("handles", role, message_type)


def on_timer(role: str, name: str):
    return _mark("timer", role, name)


def local(role: str, choices: Callable | str | Sequence | None = None):
    """A spontaneous step; ``choices`` (a function of (self, s, ctx), an attribute name or a
    sequence) gives the finite set of arguments it may be taken with."""
    return _mark("local", role, choices)


def forgeable(role: str):
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
