"""How consensuslab drives a user's sans-IO implementation: an ``Adapter`` the user writes.

A sans-IO node is an object whose methods take a message, a timer or a client
request and return the messages it sends; it does no I/O itself.  The adapter
translates between the model's terms and the implementation's, one method per
kind of model step (each gets the node object and returns what it sent, as
``(destination, model message)`` pairs)::

    create(node, role)               -> a fresh node object
    deliver(impl, node, src, msg)    -> sends      (a model message arrives)
    timer(impl, node, name)          -> sends      (a timer the node set fires)
    local(impl, node, name, args)    -> sends      (a spontaneous step or a client request)
    recover(impl, node, role)        -> node object (restart after a crash, from what it persisted)
    observe(impl, node)              -> dict        (its state, in the model's terms)
    expected(model_state, node)      -> dict        (the model's local state, in the same terms)
    timers(impl, node)               -> set | None  (the timers it has set; None: not compared)
    enabled(impl, node)              -> set | None  (the (name, args) local steps it would take now)

``topology`` (role -> node names) is set from the model before ``create`` is
called.  ``enabled`` finds the bugs where an implementation would do what the
model forbids (commit on a majority of votes): where it is given, in every
state the model reaches the node's spontaneous steps must be the model's.

``observe`` and ``expected`` default to the model state's fields read from the
node object by the same names.  A method may raise ``NotEnabled`` where the
implementation refuses a step; that is a divergence when the model takes it.
Node objects are copied (``copy``, default ``copy.deepcopy``) where the
exhaustive search branches.  ``key`` adds hidden implementation state to the
search's deduplication (default: none, so two paths to one model state are one).
"""

from __future__ import annotations

import copy
from typing import Any

import attrs


class NotEnabled(Exception):
    """Raised by an adapter or implementation that will not take a step here."""


def _fields(value: Any) -> list[str]:
    if attrs.has(type(value)):
        return [f.name for f in attrs.fields(type(value))]
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return list(value._fields)
    return []


class Adapter:
    """Base class of adapters; override what your implementation needs."""

    #: the model the implementation is checked against (the command line's --protocol overrides it)
    protocol: str | None = None
    #: model parameters (the command line's -p overrides them)
    params: dict[str, Any] = {}
    variant: str | None = None
    scenario: str | None = None
    #: role -> node names, set from the model before ``create`` is called
    topology: dict[str, tuple[str, ...]] = {}

    def create(self, node: str, role: str) -> Any:
        raise NotImplementedError

    def deliver(self, impl, node: str, src: str, msg) -> list:
        raise NotImplementedError

    def timer(self, impl, node: str, name: str) -> list:
        raise NotImplementedError

    def local(self, impl, node: str, name: str, args: tuple) -> list:
        raise NotImplementedError

    def recover(self, impl, node: str, role: str) -> Any:
        """A node restarted after a crash; by default a fresh one (nothing persisted)."""
        return self.create(node, role)

    def expected(self, model_state, node: str) -> dict[str, Any]:
        return {name: getattr(model_state, name) for name in _fields(model_state)}

    def observe(self, impl, node: str, names: list[str] | None = None) -> dict[str, Any]:
        return {name: getattr(impl, name, "<missing>") for name in names or ()}

    def timers(self, impl, node: str) -> set | None:
        return None

    def enabled(self, impl, node: str) -> set | None:
        return None

    def copy(self, impl) -> Any:
        return copy.deepcopy(impl)

    def key(self, impls: dict[str, Any]) -> Any:
        return None
