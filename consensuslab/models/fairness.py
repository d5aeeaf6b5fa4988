"""Fairness: which actions a behaviour may not postpone forever.

Liveness is meaningless without it (a behaviour that stops at the initial
state decides nothing), and wrong with too much of it (a crashed node does
not deliver, a Byzantine node does not cooperate, an adversarial network
before GST does not deliver).  So fairness is declared, per action kind and
per node, and scoped to correct nodes:

* ``weak``: an action continuously enabled from some point on is eventually taken;
* ``strong``: an action enabled infinitely often is taken infinitely often.

Defaults (what a distributed-systems paper assumes): weak fairness on each
message delivery and each timer *of correct nodes*, where delivery counts
only between correct nodes and, on a partially synchronous network, only
after GST; the ``gst`` step itself is weakly fair when the network says GST
eventually comes.  Nothing on drop, duplicate, crash, recover or forge.
Local steps (and spec ``step`` actions) are fair only when the protocol
declares them, in its ``fairness`` attribute: a transaction manager that
never decides is a legal behaviour unless the protocol says it is not.
"""

from __future__ import annotations

import attrs

WEAK, STRONG = "weak", "strong"
UNFAIR_KINDS = frozenset({"drop", "duplicate", "crash", "recover", "forge"})


@attrs.frozen
class Fair:
    """Fairness for the actions of one ``kind`` (optionally one handler ``name``, one ``role``).

    ``per="action"``: each action value (one envelope, one timer of one node,
    one local step with its argument) is its own obligation.  ``per="node"``:
    all matching actions of one node form one obligation ("the TM eventually
    takes one of its decisions").
    """

    kind: str
    name: str | None = None
    role: str | None = None
    strength: str = WEAK
    per: str = "action"

    def __attrs_post_init__(self):
        if self.strength not in (WEAK, STRONG):
            raise ValueError(f"fairness strength must be {WEAK!r} or {STRONG!r}")
        if self.per not in ("action", "node"):
            raise ValueError("fairness per must be 'action' or 'node'")
        if self.kind in UNFAIR_KINDS:
            raise ValueError(f"fairness on {self.kind!r} would assume faulty behaviour; it is never fair")


DEFAULTS = (Fair("deliver"), Fair("timer"))
_NO_FAULTS = (frozenset(), True)


class Classifier:
    """Maps (state, action) to a fairness class id (-1: no obligation); ``strong[id]`` says which kind.

    Classes are interned, so the liveness graph stores one int per edge.  The
    answer depends on the action and on who is faulty in the state (and on
    GST), so it is cached on exactly those.
    """

    def __init__(self, model):
        self.model = model
        definition = model.definition
        self.declared = tuple(getattr(definition, "fairness", ()) or ()) + DEFAULTS
        from consensuslab.models.actor_model import ActorModel

        self.actor = isinstance(model, ActorModel)
        self.network = model.network if self.actor else None
        self.byzantine = frozenset(getattr(model, "byzantine", ()) or ())
        self.role_of = getattr(model, "role_of", {}) or {}
        self.keys: list = []
        self.strong = bytearray()
        self._ids: dict = {}
        self._cache: dict = {}

    def _faulty(self, state) -> tuple:
        if not self.actor:
            return _NO_FAULTS
        return (state.down, self.network.fair_delivery(state.net))

    def classify(self, state, action) -> int:
        return self.classes(state, (action,))[0]

    def classes(self, state, actions) -> list[int]:
        faulty = self._faulty(state)
        table = self._cache.get(faulty)
        if table is None:
            table = self._cache[faulty] = {}
        get = table.get
        out = []
        for action in actions:
            got = get(action)
            if got is None:
                got = table[action] = self._classify(action, *faulty)
            out.append(got)
        return out

    def _classify(self, action, down, synchronous: bool) -> int:
        kind = action.kind
        if kind in UNFAIR_KINDS:
            return -1
        if kind == "gst":
            return self._intern(("gst",), False) if getattr(self.network, "eventual", False) else -1
        bad = self.byzantine | down
        if action.node is not None and action.node in bad:
            return -1  # a faulty node owes nothing
        if kind == "deliver":
            if not synchronous or action.args[0] in bad:
                return -1  # the adversary may hold it (before GST), or the sender is faulty
        role = self.role_of.get(action.node)
        for fair in self.declared:
            if fair.kind != kind or (fair.name is not None and fair.name != action.name):
                continue
            if fair.role is not None and fair.role != role:
                continue
            if fair.per == "node":
                ident = (kind, fair.name or "*", action.node)
            else:
                ident = (kind, action.name, action.node, action.args)
            return self._intern(ident, fair.strength == STRONG)
        return -1

    def _intern(self, ident, strong: bool) -> int:
        got = self._ids.get((ident, strong))
        if got is None:
            got = self._ids[(ident, strong)] = len(self.keys)
            self.keys.append(ident)
            self.strong.append(1 if strong else 0)
        return got

    def describe(self, cid: int) -> str:
        ident = self.keys[cid]
        strength = "strong" if self.strong[cid] else "weak"
        if ident[0] == "gst":
            return f"{strength} fairness of gst"
        from consensuslab.models.action import Action

        if len(ident) == 4:
            return f"{strength} fairness of '{Action(ident[0], ident[1], ident[2], ident[3])}'"
        what = ident[0] if ident[1] == "*" else ident[1]
        return f"{strength} fairness of {what} steps of {ident[2] or 'any process'}"
