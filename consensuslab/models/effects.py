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
    return (Send(dst, msg),)


def broadcast(dsts: Iterable[str], msg: Any) -> tuple[Send, ...]:
    return tuple(Send(d, msg) for d in dsts)


def set_timer(name: str) -> tuple[SetTimer]:
    return (SetTimer(name),)


def cancel_timer(name: str) -> tuple[CancelTimer]:
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
