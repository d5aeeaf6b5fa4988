"""How a log is read against a model: the ``Mapping`` a user writes (or the native one for the model's own logs).

A mapping answers four questions, each a method a subclass overrides (``prepare``
sees the whole log first, for mappings that read one node's events in the
light of another's):

* ``expectations(model, node, events)``: what each of a node's events asks of
  the model, in the node's order (``Expect`` values);
* ``observe(model, node, name, before, action, after)``: the model's value of a
  field an ``Expect`` names, after the step that took the event;
* ``silent(model, action, logged)``: whether ``action`` may happen without being
  logged, and if so what it costs: a fault class (``crash``, ``loss``,
  ``duplication``, ``restart``, ``forgery``: each counts one fault, and the
  search finds the fewest) or ``free`` (an unlogged step that is no fault);
  None where it must be logged;
* ``same(logged, observed)``: whether a logged value equals the model's.

``params`` are model parameters the mapping needs (the command line may
override them), ``independent`` says that steps of different nodes commute in
the model (then trying independent events in one canonical order loses no
explanation; see ``search``), and ``helper_limit`` bounds the helper steps one
event may take.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from consensuslab.checkers.validation.expect import Expect
from consensuslab.logs.event import Event
from consensuslab.models.action import Action

#: the classes of fault a behaviour may need, in the order reports list them
FAULT_CLASSES = ("crash", "restart", "loss", "duplication", "forgery")
FREE = "free"
_KIND_FAULT = {"drop": "loss", "duplicate": "duplication", "crash": "crash", "recover": "restart", "forge": "forgery"}
_NAME_FAULT = ((re.compile(r"drop|lose|lost", re.I), "loss"), (re.compile(r"duplicat", re.I), "duplication"),
               (re.compile(r"crash|fail", re.I), "crash"), (re.compile(r"restart|recover", re.I), "restart"),
               (re.compile(r"forge|byzantin|equivocat|tamper", re.I), "forgery"))


def fault_class(action: Action) -> str | None:
    """The fault class an action reads as (by its kind, or a spec action's name), or None."""
    got = _KIND_FAULT.get(action.kind)
    if got is not None or action.kind != "step":
        return got
    for pattern, name in _NAME_FAULT:
        if pattern.search(action.name):
            return name
    return None


class Mapping:
    """Base class of mappings; the defaults suit a log that names model actions (see ``native``)."""

    #: the protocol this mapping reads logs against (the command line's --protocol overrides it)
    protocol: str | None = None
    #: model parameters the mapping needs (-p on the command line overrides them)
    params: dict[str, Any] = {}
    #: steps of different nodes commute in the model: independent events are tried in one order
    independent: bool = True
    #: most helper steps one event may take
    helper_limit: int = 8

    def prepare(self, model, log) -> None:
        """Called once with the whole log before ``expectations`` (to look up the send a receive links to)."""

    def expectations(self, model, node: str, events: tuple[Event, ...]) -> Iterable[Expect]:
        raise NotImplementedError

    def observe(self, model, node: str, name: str, before, action: Action | None, after) -> Any:
        raise NotImplementedError

    def same(self, logged: Any, observed: Any) -> bool:
        return logged == observed

    def node_of(self, model, action: Action) -> str | None:
        return model.node_of(action)

    def silent(self, model, action: Action, logged: frozenset) -> str | None:
        """Faults may happen unlogged, and so may a step of a node that keeps no log, or of no node at all
        (a step the spec does not give to any node has nobody to log it)."""
        fault = fault_class(action)
        if fault is not None:
            return fault
        node = self.node_of(model, action)
        return FREE if node is None or node not in logged else None

    def fault(self, model, action: Action) -> str | None:
        """The fault class of a step that took a logged event (a logged restart is still a restart)."""
        return fault_class(action)
