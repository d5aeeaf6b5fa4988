"""Raft's messages, the message bag, log helpers, and the model that receives from the bag.

Split out of ``raft.py`` so that module reads like the spec: these are the
spec's ``WithMessage``/``WithoutMessage``, ``LastTerm`` and the four message
records, plus the one piece of plumbing the ``Spec`` framework lacks: actions
whose domain is the state's own message bag (``\\E m \\in DOMAIN messages``).
"""

from __future__ import annotations

from typing import Any, Callable

from consensuslab.errors import ReplayError
from consensuslab.models.action import Action
from consensuslab.models.messages import Channel, Participants
from consensuslab.models.records import message
from consensuslab.models.spec import SpecModel


# -- messages (raft.tla's four record types; msource/mdest are server names) ---
@message
class RequestVoteRequest:
    mterm: int
    mlastLogTerm: int
    mlastLogIndex: int
    msource: str
    mdest: str


@message
class RequestVoteResponse:
    mterm: int
    mvoteGranted: bool
    msource: str
    mdest: str


@message
class AppendEntriesRequest:
    mterm: int
    mprevLogIndex: int
    mprevLogTerm: int
    mentries: tuple  # zero or one (term, value) entries
    mcommitIndex: int
    msource: str
    mdest: str


@message
class AppendEntriesResponse:
    mterm: int
    msuccess: bool
    mmatchIndex: int
    msource: str
    mdest: str


#: the servers, the variables they index, and the bag: a message goes from msource to mdest
PARTICIPANTS = Participants(
    "Server", per_node=("currentTerm", "state", "votedFor", "log", "commitIndex", "votesResponded", "votesGranted",
                        "nextIndex", "matchIndex"),
    per_pair=("nextIndex", "matchIndex"),
    channels=(Channel("messages", sender="msource", receiver="mdest", counted=True),))


# -- the bag: a frozenset of (message, copies) pairs --------------------------
# Bags stay tiny (``max_messages`` bounds them), so a linear scan beats a map.
def copies(bag: frozenset, m) -> int:
    for msg, k in bag:
        if msg == m:
            return k
    return 0


def size(bag: frozenset) -> int:
    return sum(k for _, k in bag)


def with_message(m, bag: frozenset) -> frozenset:
    """The spec's WithMessage: one more copy of ``m``."""
    k = copies(bag, m)
    return (bag - {(m, k)} | {(m, k + 1)}) if k else bag | {(m, 1)}


def without_message(m, bag: frozenset) -> frozenset:
    """The spec's WithoutMessage: one copy fewer (a message at zero copies leaves the domain)."""
    k = copies(bag, m)
    if not k:
        return bag
    return (bag - {(m, k)} | {(m, k - 1)}) if k > 1 else bag - {(m, k)}


def reply(response, request, bag: frozenset) -> frozenset:
    return without_message(request, with_message(response, bag))


# -- logs: tuples of (term, value) entries, indexed from 1 in the spec ---------
def last_term(log: tuple) -> int:
    return log[-1][0] if log else 0


# -- the model: static actions from the table, plus actions over the bag --------
class BagSpecModel(SpecModel):
    """A ``SpecModel`` whose spec also has actions over the messages in the bag.

    The spec supplies ``message_steps(state) -> [(name, m, next state)]``; each
    becomes the action ``name(m)``.  Labels are cached per (name, message) since
    building an ``Action`` computes its canonical sort key.

    Server actions are tried only in the roles that can enable them
    (``spec.role_actions``: role -> action names; ``spec.role_of(state, server)``),
    instead of calling every row of the action table on every state.  This is
    an optimisation only: each action still checks its own guard, and the tests
    compare these successors with the plain table's.
    """

    def __init__(self, spec):
        super().__init__(spec)
        self.table_successors: Callable = self.successors
        steps = spec.message_steps
        labels: dict[tuple, Action] = {}
        by_server: dict[Any, dict[str, list]] = {}
        for label, fn, args in self._table:
            for role, names in spec.role_actions.items():
                if label.name in names:
                    by_server.setdefault(args[0], {}).setdefault(role, []).append((label, fn, args))
        rows = [(server, roles) for server, roles in sorted(by_server.items())]
        role_of = spec.role_of

        def label(name: str, m) -> Action:
            act = labels.get((name, m))
            if act is None:
                act = labels[(name, m)] = Action("step", name, None, (m,))
            return act

        def successors(state) -> list[tuple[Action, Any]]:
            out = []
            for server, roles in rows:
                for act, fn, args in roles.get(role_of(state, server), ()):
                    nxt = fn(state, *args)
                    if nxt is not None:
                        out.append((act, nxt))
            out.extend((label(name, m), nxt) for name, m, nxt in steps(state))
            out.sort(key=lambda pair: pair[0].key)
            return out

        self.successors = successors  # type: ignore[method-assign]

    def action_names(self) -> list[str]:
        return sorted(set(super().action_names()) | set(self.spec.message_actions))

    def all_successors(self, state) -> list[tuple[Action, Any]]:
        """Successors from every row of the action table (no role dispatch), for tests."""
        out = self.table_successors(state)
        out.extend((Action("step", name, None, (m,)), nxt) for name, m, nxt in self.spec.message_steps(state))
        out.sort(key=lambda pair: pair[0].key)
        return out

    def node_of(self, action: Action):
        """A received message is its destination's step; the network duplicates and drops."""
        if action.name in self.spec.message_actions:
            m = action.args[0] if action.args else None
            return None if action.name in ("DuplicateMessage", "DropMessage") else getattr(m, "mdest", None)
        return super().node_of(action)

    def apply(self, state, act: Action):
        if act.name in self.spec.message_actions:
            if len(act.args) == 1:
                for name, m, nxt in self.spec.message_steps(state):
                    if name == act.name and m == act.args[0]:
                        return nxt
            raise ReplayError(f"{act} is not enabled")
        return super().apply(state, act)
