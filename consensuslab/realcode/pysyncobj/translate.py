"""PySyncObj's values in raft.tla's terms: servers, terms, indexes, entries, messages, node state.

Every PySyncObj log starts with a sentinel entry (index 1, term 0, a no-op),
and terms start at 0; raft.tla's logs are empty at first and terms start at
1.  So a raft.tla index is PySyncObj's minus one (the commit index too), and a
term is PySyncObj's plus one, except the sentinel's term 0, which is raft.tla's
"no entry" 0.  Commands become raft.tla's values: 1 a no-op (a new leader's
first entry), 2 a write, 3 anything else (reads go through the log too).
Servers are named by the order of the log's node names: n1 is s1.
"""

from __future__ import annotations

from typing import Any

from consensuslab.protocols.raft_log import (
    AppendEntriesRequest,
    AppendEntriesResponse,
    RequestVoteRequest,
    RequestVoteResponse,
)
from consensuslab.protocols.raft_receive import CANDIDATE, FOLLOWER, LEADER, NIL

ROLES = {"follower": FOLLOWER, "candidate": CANDIDATE, "leader": LEADER}
NOOP, WRITE, OTHER = 1, 2, 3


class Translation:
    """PySyncObj's names and numbers in raft.tla's, for one log (its nodes fix the server names)."""

    def __init__(self, nodes):
        self.server = {node: f"s{k + 1}" for k, node in enumerate(sorted(nodes))}

    def name(self, node: str | None) -> str:
        return NIL if node is None else self.server.get(node, node)

    @staticmethod
    def term(term: int) -> int:
        return term + 1

    @staticmethod
    def index(index: int) -> int:
        return index - 1

    @staticmethod
    def entry_term(index: int, term: int) -> int:
        """The term of the entry at PySyncObj ``index``: the sentinel's 0 stays 0."""
        return 0 if index <= 1 else term + 1

    @staticmethod
    def value(cmd: Any) -> int:
        if cmd == "noop":
            return NOOP
        return WRITE if isinstance(cmd, dict) and cmd.get("op") == "write" else OTHER

    def entry(self, entry: dict) -> tuple[int, int]:
        return self.term(entry["term"]), self.value(entry["cmd"])

    # -- messages ------------------------------------------------------------------------------
    def request_vote(self, msg: dict) -> RequestVoteRequest:
        last = msg["last_log_index"]
        return RequestVoteRequest(self.term(msg["term"]), self.entry_term(last, msg["last_log_term"]),
                                  self.index(last), self.name(msg["from"]), self.name(msg["to"]))

    def response_vote(self, msg: dict) -> RequestVoteResponse:
        return RequestVoteResponse(self.term(msg["term"]), True, self.name(msg["from"]), self.name(msg["to"]))

    def append_entries(self, msg: dict) -> AppendEntriesRequest:
        prev = msg["prevLogIdx"]
        return AppendEntriesRequest(self.term(msg["term"]), self.index(prev), self.entry_term(prev, msg["prevLogTerm"]),
                                    tuple(self.entry(e) for e in msg["entries"]), self.index(msg["commit_index"]),
                                    self.name(msg["from"]), self.name(msg["to"]))

    def next_node_idx(self, msg: dict, sender_term: int) -> AppendEntriesResponse:
        """The answer to an AppendEntries; it carries no term, so the sender's term (from its log) is given."""
        return AppendEntriesResponse(self.term(sender_term), bool(msg["success"]),
                                     max(msg["next_node_idx"] - 2, 0), self.name(msg["from"]), self.name(msg["to"]))

    # -- a node's state ----------------------------------------------------------------------------
    def fields(self, state: dict | None, skip: tuple[str, ...] = ()) -> tuple[tuple[str, Any], ...]:
        """The logged state as raft.tla's per-server variables (and the log's length and last term)."""
        if not isinstance(state, dict):
            return ()
        out = {"state": ROLES.get(state.get("role")), "currentTerm": self.term(state["term"]),
               "votedFor": self.name(state.get("voted_for")), "commitIndex": self.index(state["commit_index"])}
        last = state.get("last_log_index")
        if last is not None:
            out["logLength"] = self.index(last)
            out["lastTerm"] = self.entry_term(last, state.get("last_log_term") or 0)
        return tuple((k, v) for k, v in sorted(out.items()) if k not in skip)
