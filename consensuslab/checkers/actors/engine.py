"""The packed actor engine's entry: which actor models it checks, and the reason where it does not.

``ActorSearch`` (``search.py``) checks an ``ActorModel`` as the interpreted
search would, on states packed into ints (``layout.py``) with each handler step
memoised per (node, local state, input) and each block of successors per the
few fields it reads (``units.py``).  What it does not pack is named here and the
run goes to the interpreted search, which ``checkers/run.py`` says in
``engine_reason``.
"""

from __future__ import annotations

from consensuslab.checkers.actors.layout import network_kind
from consensuslab.checkers.actors.search import ActorSearch
from consensuslab.models.actor_model import ActorModel
from consensuslab.models.faults import Byzantine, CrashRecover, CrashStop, Omission
from consensuslab.models.network import PartialSynchrony

__all__ = ["ActorSearch", "is_actor_model", "unsupported_reason"]

FAULT_FAMILIES = {CrashStop: "crash", CrashRecover: "crash", Omission: "omission", Byzantine: "byzantine"}


def is_actor_model(model) -> bool:
    """Whether ``model`` is an actor protocol's model (this engine's to check, or to hand over)."""
    return isinstance(model, ActorModel)


def unsupported_reason(model, search: str) -> str | None:
    """Why the packed actor search cannot check ``model`` (None: it can)."""
    if type(model) is not ActorModel:
        return f"{type(model).__name__} changes the actor model's successors or views"
    if search != "bfs":
        return "the packed actor search is breadth-first"
    if model.normalise is not None:
        return "the protocol's normal_form rewrites whole states"
    if model.timing is not None:
        return "the protocol's timing guard reads whole states"
    network = model.network
    inner = network.inner if type(network) is PartialSynchrony else network
    if network_kind(network) is None:
        return f"the network {type(inner).__name__} is not one the packed search knows"
    families: dict[str, int] = {}
    for fault in model.faults:
        family = FAULT_FAMILIES.get(type(fault))
        if family is None:
            return f"the fault {type(fault).__name__} is not one the packed search knows"
        families[family] = families.get(family, 0) + 1
        if families[family] > 1:
            return f"more than one {family} fault"
    return None
