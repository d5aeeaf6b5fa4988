"""Effects: what a handler asks the world to do, as values.

Handlers return ``(new_state, effects)``; effects are data, so handlers stay
pure and their results can be memoised and replayed.
"""

from __future__ import annotations

from typing import Any, Iterable

import attrs


@attrs.frozen
class Send:
    dst: str
    msg: Any


@attrs.frozen
class SetTimer:
    name: str


@attrs.frozen
class CancelTimer:
    name: str


def send(dst: str, msg: Any) -> tuple[Send]:
    """Send ``msg`` to the node ``dst``; the network stamps the real sender (``ctx.src`` on receipt).

    Effects combine with ``+``: ``return s, send("a", m) + send("b", m)``."""
    return (Send(dst, msg),)


def broadcast(dsts: Iterable[str], msg: Any) -> tuple[Send, ...]:
    """Send ``msg`` to every node of ``dsts`` (``ctx.nodes(role)``, ``ctx.others(role)``, ``ctx.all``)."""
    return tuple(Send(d, msg) for d in dsts)


def set_timer(name: str) -> tuple[SetTimer]:
    """Arm the node's timer ``name``: its ``@on_timer(role, name)`` handler may fire at any later point
    (time is not modelled: a timeout is a step the node may take, as in TLA+ specs)."""
    return (SetTimer(name),)


def cancel_timer(name: str) -> tuple[CancelTimer]:
    """Disarm the node's timer ``name``: it no longer fires until set again."""
    return (CancelTimer(name),)


def just(state) -> tuple[Any, tuple]:
    """A handler result that changes the state and has no effects."""
    return state, ()


def flatten(effects) -> tuple:
    """Accept one effect, a tuple of them, nested tuples or lists, or None."""
    if effects is None:
        return ()
    if isinstance(effects, (Send, SetTimer, CancelTimer)):
        return (effects,)
    out: list = []
    for e in effects:
        out.extend(flatten(e))
    return tuple(out)
