"""Who a spec's nodes are and where its messages go, for charts, diffs and explanations.

A TLA+-style spec keeps a node's variables at positions of tuples
(``currentTerm[0]``) and its messages as elements of a set (``msgs``); nothing
in the state says that position 0 is server s1 or that ``Prepared(rm=r2)``
goes from r2 to the TM.  A spec says it once, in ``participants``::

    participants = Participants(
        "Server",                                  # the nodes: a spec attribute holding their names
        per_node=("currentTerm", "log", ...),      # variables indexed by those nodes
        per_pair=("nextIndex", "matchIndex"),      # variables indexed [node][node]
        channels=(Channel("messages", sender="msource", receiver="mdest", counted=True),))

A *group* is the name of a spec attribute holding node names (``"Server"``,
``"RM"``) or a node's own name (``"TM"``), like ``@action(by=...)``.  A
*channel* names the state variable holding messages in flight and how a
message maps to its sender and its receivers; each is a field of the message
(``"msource"``), a group or node name, a function ``(spec, message) -> node or
nodes``, or None (nobody in particular).  ``routes`` gives them per message
type: ``routes={Prepared: ("rm", "TM"), Commit: ("TM", "RM")}``.  ``label``
names nodes that are not strings (``label="r{}"``, or a function of the
spec and the node), so charts never show a bare index.  ``reads`` says which
messages a step acts on where no argument names them (a grow-only set is read,
not consumed): ``reads={"Phase2a": lambda self, s, b, v: [m for m in s.msgs if
type(m) is Msg1b and m.bal == b]}``, evaluated on the state before the step.

A spec without the declaration gets it inferred: set-valued variables whose
elements are messages (attrs records, or ``(message, copies)`` pairs) are
channels, with sender and receiver read from conventional field names; a
tuple variable as long as exactly one upper-case tuple of names on the spec
is indexed by those names.
"""

from __future__ import annotations

import inspect
from collections import Counter
from typing import Any

import attrs

SENDER_FIELDS = ("msource", "src", "source", "sender", "frm", "from_", "mfrom", "i", "rm", "acc", "node", "replica")
RECEIVER_FIELDS = ("mdest", "dst", "dest", "destination", "receiver", "to", "mto")

Route = Any  # a field name, a group or node name, a function (spec, message) -> node(s), or None


@attrs.frozen(eq=False)
class Channel:
    """A state variable holding messages in flight, and where each message goes (compared by identity)."""

    variable: Any  # a state variable's name, or a function (spec, state) -> the messages
    sender: Route = None
    receiver: Route = None
    routes: dict = attrs.field(factory=dict)  # message type -> (sender, receiver)
    counted: bool = False  # elements are (message, copies) pairs, as raft.tla's bag
    label: Any = None  # a function (spec, message) -> how charts name it (default: the message itself)

    def contents(self, value) -> Counter:
        """Message -> copies in flight."""
        if value is None:
            return Counter()
        if self.counted:
            return Counter({m: k for m, k in value})
        return Counter(value)

    def route(self, message) -> tuple[Route, Route]:
        return self.routes.get(type(message), (self.sender, self.receiver))


class Participants:
    """A spec's nodes, the variables they index, and its message channels (see the module)."""

    def __init__(self, *groups: str, per_node=(), per_pair=(), channels=(), label=None, reads=None):
        self.groups = tuple(groups)
        self.reads = dict(reads or {})
        first = groups[0] if groups else None
        self.per_node = dict(per_node) if isinstance(per_node, dict) else {v: first for v in per_node}
        self.per_pair = dict(per_pair) if isinstance(per_pair, dict) else {v: first for v in per_pair}
        self.channels = tuple(channels)
        self.label = label


def _field(message, name: str):
    if attrs.has(type(message)):
        return getattr(message, name) if name in attrs.fields_dict(type(message)) else _MISSING
    if hasattr(message, "_fields"):
        return getattr(message, name) if name in message._fields else _MISSING
    return _MISSING


_MISSING = object()


class Wiring:
    """A spec model's participants resolved against its configuration: node names, indexes, routes."""

    def __init__(self, model, sample_state=None):
        self.model = model
        self.spec = spec = model.definition
        declared = getattr(spec, "participants", None)
        self.declared = isinstance(declared, Participants)
        decl = declared if self.declared else Participants()
        self.decl = decl
        self.nodes: list = []
        for group in decl.groups:
            for node in self.group(group):
                if node not in self.nodes:
                    self.nodes.append(node)
        self.indexed = {v: self.group(g) for v, g in decl.per_node.items()}
        self.paired = {v: self.group(g) for v, g in decl.per_pair.items()}
        self.channels = list(decl.channels)
        if not self.declared and sample_state is not None:
            self._infer(model.encode_state(sample_state))

    # -- nodes ---------------------------------------------------------------------------
    def group(self, name: str) -> tuple:
        value = getattr(self.spec, name, None) if isinstance(name, str) else None
        if isinstance(value, (tuple, list, frozenset, range)) and not isinstance(value, str):
            return tuple(sorted(value)) if isinstance(value, frozenset) else tuple(value)
        return (name,)

    def label(self, node) -> str:
        """A node's name as charts show it."""
        if isinstance(node, str):
            return node
        lab = self.decl.label
        if callable(lab):
            return str(lab(self.spec, node))
        if isinstance(lab, str):
            return lab.format(node)
        return f"node {node}"

    def actor(self, action):
        """The node taking ``action`` (``@action(by=...)``), or None."""
        return self.model.node_of(action)

    def peers(self, action) -> list:
        """The arguments of ``action`` whose domain is a declared group of nodes."""
        method = getattr(type(self.spec), action.name, None)
        domains = getattr(method, "__consensuslab_action__", None)
        if not domains or action.kind != "step":
            return []
        params = list(inspect.signature(method).parameters)[2:]
        return [a for p, a in zip(params, action.args) if domains.get(p) in self.decl.groups]

    def read_by(self, state, action) -> list:
        """The messages ``action`` acts on in ``state`` by the spec's ``reads`` (see the module)."""
        fn = self.decl.reads.get(action.name)
        return list(fn(self.spec, state, *action.args)) if fn is not None else []

    def index_nodes(self, variable: str, depth: int) -> tuple | None:
        """The nodes that positions of ``variable`` (at ``depth`` 0 or 1 of its indexes) stand for."""
        if depth == 0:
            return self.indexed.get(variable) or self.paired.get(variable)
        if depth == 1:
            return self.paired.get(variable)
        return None

    # -- messages ------------------------------------------------------------------------
    def in_flight(self, state) -> Counter:
        """(channel, message) -> copies in ``state``, over every channel."""
        out: Counter = Counter()
        encoded = self.model.encode_state(state) if not self.declared or any(
            isinstance(c.variable, str) for c in self.channels) else {}
        if not self.declared:
            self._infer_channels(encoded)
        for ch in self.channels:
            value = ch.variable(self.spec, state) if callable(ch.variable) else encoded.get(ch.variable)
            for m, k in ch.contents(value).items():
                out[(ch, m)] += k
        return out

    def message_label(self, channel: Channel, message) -> str | None:
        """The channel's own name for ``message`` (None: show the message)."""
        return str(channel.label(self.spec, message)) if channel.label is not None else None

    def resolve(self, route: Route, message) -> tuple:
        """The nodes ``route`` names for ``message`` (empty: nobody in particular)."""
        if route is None:
            return ()
        if callable(route):
            got = route(self.spec, message)
        elif isinstance(route, str) and (got := _field(message, route)) is not _MISSING:
            pass
        else:
            got = self.group(route) if isinstance(route, str) else route
        if got is None:
            return ()
        return tuple(got) if isinstance(got, (tuple, list, frozenset, set)) else (got,)

    def sender(self, channel: Channel, message):
        got = self.resolve(channel.route(message)[0], message)
        return got[0] if got else None

    def receivers(self, channel: Channel, message) -> tuple:
        return self.resolve(channel.route(message)[1], message)

    # -- inference for specs that declare nothing ------------------------------------------
    def _infer(self, encoded: dict) -> None:
        self._infer_channels(encoded)
        attributes = {k: v for klass in reversed(type(self.spec).__mro__) for k, v in vars(klass).items()}
        attributes.update(vars(self.spec))
        # Every constant tuple is a candidate, named or not: a variable is labelled by the one group of its length
        # only (KeyValueStore's Key, TxId and Val all have two elements, and only Val's are names: its store and
        # snapshots were shown indexed by values).  A record constant is one value, not a group (MultiPaxos's
        # NullInst, of three fields, hid its three replicas' names).
        groups = [v for k, v in sorted(attributes.items()) if k[:1].isupper() and type(v) is tuple and v]
        for name, value in encoded.items():
            if type(value) is tuple and value:
                fits = {g for g in groups if len(g) == len(value)}  # two names for one group are one group
                if len(fits) == 1 and all(isinstance(x, str) for x in next(iter(fits))):
                    self.indexed[name] = next(iter(fits))

    def _infer_channels(self, encoded: dict) -> None:
        """Channels from the first state in which a set holds messages."""
        known = {c.variable for c in self.channels}
        for name, value in encoded.items():
            if name not in known and isinstance(value, frozenset) and value:
                sample = next(iter(value))
                counted = (type(sample) is tuple and len(sample) == 2 and isinstance(sample[1], int)
                           and attrs.has(type(sample[0])))
                if counted or attrs.has(type(sample)):
                    msg = sample[0] if counted else sample
                    names = attrs.fields_dict(type(msg))
                    src = next((f for f in SENDER_FIELDS if f in names), None)
                    dst = next((f for f in RECEIVER_FIELDS if f in names), None)
                    self.channels.append(Channel(name, src, dst, counted=counted))


def wiring_of(model, sample_state=None) -> Wiring | None:
    """The wiring of a spec model (None for actor models, whose nodes and messages are explicit)."""
    if hasattr(model, "topology") and hasattr(model, "network"):
        return None
    return Wiring(model, sample_state)


__all__ = ["Channel", "Participants", "Wiring", "wiring_of", "Route"]
