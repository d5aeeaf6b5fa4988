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

The declarations are a conjunction (TLA+'s ``WF(A) /\\ SF(B)``): an action
owes every declaration that matches it; the defaults apply to an action that
no declaration matches.  For specs, TLA+ fairness reads:

* ``WF_vars(A)``, A without arguments: ``Fair("step", "A")``;
* ``\\A i : WF_vars(A(i))``: ``Fair("step", "A")`` (each argument tuple is its own obligation);
* ``WF_vars(\\E i : A(i))``: ``Fair("step", "A", per="all")``;
* ``WF_vars(A \\/ B)``: ``Fair("step", ("A", "B"), per="all")``;
* ``\\A self : WF_vars(node(self))``: ``Fair("step", per="node")``, the actions declaring
  which node takes them (``@action(i="Node", by="i")``);
* ``WF_vars(Next)``: ``Fair("step", per="all")``; ``SF``: ``strength="strong"``.
"""

from __future__ import annotations

import attrs

from consensuslab.errors import ModelError

WEAK, STRONG = "weak", "strong"
UNFAIR_KINDS = frozenset({"drop", "duplicate", "crash", "recover", "forge"})




@attrs.frozen
class Fair:
    """Fairness for the actions of one ``kind`` (optionally of ``name``, of one ``role``).

    ``kind`` is an action kind: ``"step"`` (spec actions), ``"local"``,
    ``"deliver"``, ``"timer"`` (actor protocols).  ``name`` is one action or
    handler name, or a tuple of them (a disjunction), or None (all of the
    kind).  ``role`` (actor protocols) restricts it to one role's nodes.
    ``per`` says what one obligation is: ``"action"``, each action value (one
    envelope, one timer of one node, one step with its arguments);
    ``"node"``, all matching actions of one node ("the TM eventually takes one
    of its decisions", TLA+'s ``\\A self : WF(node(self))``; a spec action
    names its node with ``@action(by=...)``); ``"all"``, all matching actions
    together (``WF(A \\/ B)``).  ``strength``: ``"weak"`` or ``"strong"``.
    """

    kind: str
    name: str | tuple[str, ...] | None = None
    role: str | None = None
    strength: str = WEAK
    per: str = "action"

    def __attrs_post_init__(self):
        if self.strength not in (WEAK, STRONG):
            raise ValueError(f"fairness strength must be {WEAK!r} or {STRONG!r}")
        if self.per not in PER:
            raise ValueError(f"fairness per must be one of {', '.join(map(repr, PER))}")
        if self.kind in UNFAIR_KINDS:
            raise ValueError(f"fairness on {self.kind!r} would assume faulty behaviour; it is never fair")
        if isinstance(self.name, list):
            object.__setattr__(self, "name", tuple(self.name))

    def names(self) -> tuple[str, ...] | None:
        """The action names it covers (None: every action of its kind)."""
        return None if self.name is None else (self.name,) if isinstance(self.name, str) else self.name

    def matches(self, kind: str, name: str, role: str | None) -> bool:
        names = self.names()
        return self.kind == kind and (names is None or name in names) and (self.role is None or self.role == role)

    def ident(self, action, node) -> tuple:
        """What one obligation of this declaration is, for ``action`` taken by ``node``."""
        names = self.names()
        what = "*" if names is None else names[0] if len(names) == 1 else names
        if self.per == "node":
            return (action.kind, what, node)
        if self.per == "all":
            return (action.kind, what, None, "all")
        return (action.kind, action.name, node, action.args)


PER = ("action", "node", "all")
DEFAULTS = (Fair("deliver"), Fair("timer"))
_NO_FAULTS = (frozenset(), True)


def check_declarations(model, declared: tuple) -> None:
    """One ``ModelError`` for a fairness declaration that cannot mean what it says on ``model``."""
    spec = hasattr(model, "action_names") and not hasattr(model, "topology")
    for fair in declared:
        if not isinstance(fair, Fair):
            raise ModelError(f"{model.protocol}: fairness holds {type(fair).__name__} {fair!r}; "
                             f"declare Fair(kind, name, role=, strength=, per=) values")
        if not spec:
            _check_actor(model, fair)
            continue
        if fair.kind != "step":
            raise ModelError(f"{model.protocol}: {fair!r}: a spec's actions are of kind 'step'; write Fair('step', ...)")
        if fair.role is not None:
            raise ModelError(f"{model.protocol}: {fair!r}: a spec has no roles; name the actions, or use per='node' "
                             f"with @action(..., by=...)")
        known = set(model.action_names()) | set(getattr(model.definition, "fault_actions", ()) or ())
        unknown = [n for n in fair.names() or () if n not in known]
        if unknown:
            raise ModelError(f"{model.protocol}: {fair!r} names {unknown[0]!r}, which is not an action; "
                             f"actions: {', '.join(sorted(known))}")
        if fair.per == "node":
            decl = getattr(model, "declared", lambda n: None)
            blind = [n for n in (fair.names() or model.action_names())
                     if decl(n) is not None and decl(n).by is None]
            if blind:
                raise ModelError(f"{model.protocol}: {fair!r} is per node, but action {blind[0]} does not say which "
                                 f"node takes it: declare @action(..., by='<its node parameter>'), or use "
                                 f"per='all' (one obligation for all of them)")


def _check_actor(model, fair: Fair) -> None:
    topology = getattr(model, "topology", None) or {}
    if fair.role is not None and fair.role not in topology:
        raise ModelError(f"{model.protocol}: {fair!r} names role {fair.role!r}, which is not in the topology "
                         f"({', '.join(topology)})")
    handlers = {"deliver": [n for n, _ in getattr(model, "handlers", {}).values()],
                "timer": [n for n, _ in getattr(model, "timer_handlers", {}).values()],
                "local": [row[0] for rows in getattr(model, "locals_by_role", {}).values() for row in rows]}
    if fair.kind not in handlers:
        raise ModelError(f"{model.protocol}: {fair!r}: an actor protocol's fair actions are of kind "
                         f"'deliver', 'timer' or 'local'")
    unknown = [n for n in fair.names() or () if n not in handlers[fair.kind]]
    if unknown:
        raise ModelError(f"{model.protocol}: {fair!r} names {unknown[0]!r}, which is no {fair.kind} handler; "
                         f"{fair.kind} handlers: {', '.join(sorted(set(handlers[fair.kind]))) or 'none'}")


class Classifier:
    """Maps (state, action) to its fairness *label* (-1: no obligation).

    A label stands for the tuple of fairness classes the action owes
    (``members[label]``; usually one); ``strong[cid]`` says which classes are
    strong.  Labels and classes are interned, so the liveness graph stores one
    int per edge.  The answer depends on the action and on who is faulty in
    the state (and on GST), so it is cached on exactly those.
    """

    def __init__(self, model):
        self.model = model
        definition = model.definition
        own = tuple(getattr(definition, "fairness", ()) or ())
        check_declarations(model, own)
        self.declared = own
        from consensuslab.models.actor_model import ActorModel

        self.actor = isinstance(model, ActorModel)
        self.network = model.network if self.actor else None
        self.byzantine = frozenset(getattr(model, "byzantine", ()) or ())
        self.role_of = getattr(model, "role_of", {}) or {}
        self.node_of = (lambda action: action.node) if self.actor else model.node_of
        self.keys: list = []
        self.strong = bytearray()
        self.members: list[tuple[int, ...]] = []
        self._ids: dict = {}
        self._labels: dict = {}
        self._cache: dict = {}

    def _faulty(self, state) -> tuple:
        if not self.actor:
            return _NO_FAULTS
        return (state.down, self.network.fair_delivery(state.net))

    def classify(self, state, action) -> int:
        """The label of ``action`` in ``state`` (-1: it owes nothing)."""
        return self.classes(state, (action,))[0]

    def classes(self, state, actions) -> list[int]:
        """The labels of ``actions`` in ``state``."""
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

    def owed(self, state, actions) -> set[int]:
        """The fairness classes any of ``actions`` (those enabled in ``state``) belongs to."""
        members = self.members
        return {c for label in self.classes(state, actions) if label >= 0 for c in members[label]}

    def _classify(self, action, down, synchronous: bool) -> int:
        kind = action.kind
        if kind in UNFAIR_KINDS:
            return -1
        if kind == "gst":
            return self._label(((("gst",), False),)) if getattr(self.network, "eventual", False) else -1
        node = self.node_of(action)
        bad = self.byzantine | down
        if node is not None and node in bad:
            return -1  # a faulty node owes nothing
        if kind == "deliver":
            if not synchronous or action.args[0] in bad:
                return -1  # the adversary may hold it (before GST), or the sender is faulty
        role = self.role_of.get(node)
        owed = [(f.ident(action, node), f.strength == STRONG) for f in self.declared if f.matches(kind, action.name, role)]
        if not owed:
            owed = [(f.ident(action, node), False) for f in DEFAULTS if f.matches(kind, action.name, role)][:1]
        return self._label(tuple(owed)) if owed else -1

    def _label(self, owed: tuple) -> int:
        got = self._labels.get(owed)
        if got is None:
            got = self._labels[owed] = len(self.members)
            self.members.append(tuple(sorted({self._intern(ident, strong) for ident, strong in owed})))
        return got

    def _intern(self, ident, strong: bool) -> int:
        got = self._ids.get((ident, strong))
        if got is None:
            got = self._ids[(ident, strong)] = len(self.keys)
            self.keys.append(ident)
            self.strong.append(1 if strong else 0)
        return got

    def describe(self, cid: int) -> str:
        """A fairness class in words, for the messages that name an unmet obligation."""
        ident = self.keys[cid]
        strength = "strong" if self.strong[cid] else "weak"
        if ident[0] == "gst":
            return f"{strength} fairness of gst"
        from consensuslab.models.action import Action

        what = ident[1] if isinstance(ident[1], str) else " or ".join(ident[1])
        if len(ident) == 4 and ident[3] == "all":
            return f"{strength} fairness of {ident[0] + ' steps' if what == '*' else what} (any of them)"
        if len(ident) == 4:
            return f"{strength} fairness of '{Action(ident[0], ident[1], ident[2], ident[3])}'"
        what = ident[0] if what == "*" else what
        return f"{strength} fairness of {what} steps of {ident[2] or 'any process'}"
