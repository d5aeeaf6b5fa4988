"""Raft's leader election written sans-IO, and the adapter that checks it against the model `raft-election`.

`RaftNode` keeps its term and vote in a `storage` dict (its stable storage:
what survives a restart), answers RequestVote, counts votes, and leads once a
majority voted for it.  Messages are dicts; timers are flags the caller fires.

    consensuslab conform examples/implementations/raft_election.py:RaftAdapter        # conforms: exit 0
    consensuslab conform examples/implementations/raft_election.py:ForgetfulAdapter   # the planted bug: exit 12

`ForgetfulNode` is the planted bug: it writes its term to storage but not its
vote, so after a restart it may vote again in a term it already voted in.
"""

from consensuslab.protocols.raft_election import Heartbeat, RequestVote, Vote
from consensuslab.testing import Adapter


# -- the implementation -----------------------------------------------------------------------
class RaftNode:
    def __init__(self, name, peers, storage=None):
        self.name, self.peers = name, tuple(peers)
        self.storage = storage if storage is not None else {"term": 1, "voted_for": None}
        self.term, self.voted_for = self.storage["term"], self.storage.get("voted_for")
        self.role, self.votes, self.election_timer = "follower", set(), True

    def persist(self):
        self.storage["term"], self.storage["voted_for"] = self.term, self.voted_for

    def restarted(self):
        """The node after a crash: only what it persisted."""
        return type(self)(self.name, self.peers, dict(self.storage))

    def majority(self):
        return (len(self.peers) + 1) // 2 + 1

    def on_election_timeout(self):
        self.term, self.role, self.voted_for, self.votes = self.term + 1, "candidate", self.name, {self.name}
        self.persist()
        if len(self.votes) >= self.majority():
            return self.lead()
        return [(p, {"type": "request_vote", "term": self.term}) for p in self.peers]

    def on_message(self, src, msg):
        if msg["term"] > self.term:
            self.term, self.role, self.voted_for, self.votes = msg["term"], "follower", None, set()
            self.election_timer = True
            self.persist()
        handler = {"request_vote": self.on_request_vote, "vote": self.on_vote, "heartbeat": self.on_heartbeat}
        return handler[msg["type"]](src, msg)

    def on_request_vote(self, src, msg):
        grant = msg["term"] == self.term and self.voted_for in (None, src)
        if grant:
            self.voted_for = src
            self.persist()
        return [(src, {"type": "vote", "term": self.term, "granted": grant})]

    def on_vote(self, src, msg):
        if msg["term"] == self.term and self.role == "candidate" and msg["granted"]:
            self.votes.add(src)
            if len(self.votes) >= self.majority():
                return self.lead()
        return []

    def on_heartbeat(self, src, msg):
        if msg["term"] == self.term:
            self.role, self.votes, self.election_timer = "follower", set(), True
        return []

    def lead(self):
        self.role, self.votes, self.election_timer = "leader", set(), False
        return [(p, {"type": "heartbeat", "term": self.term}) for p in self.peers]


class ForgetfulNode(RaftNode):
    """The planted bug: the vote is not written to stable storage."""

    def persist(self):
        self.storage["term"] = self.term


# -- the adapter ----------------------------------------------------------------------------------
class RaftAdapter(Adapter):
    protocol = "raft-election"
    scenario = "restart"  # one crash-recover: what stable storage is for
    node_class = RaftNode

    def create(self, node, role):
        return self.node_class(node, [n for n in self.topology["server"] if n != node])

    def recover(self, impl, node, role):
        return impl.restarted()

    def timer(self, impl, node, name):
        impl.election_timer = False  # it fired; the node sets it again where it should
        out = impl.on_election_timeout()
        if impl.role != "leader":
            impl.election_timer = True
        return self.sends(out)

    def deliver(self, impl, node, src, msg):
        return self.sends(impl.on_message(src, to_impl(msg)))

    def timers(self, impl, node):
        return {"election"} if impl.election_timer else set()

    def sends(self, out):
        return [(dst, to_model(msg)) for dst, msg in out]


class ForgetfulAdapter(RaftAdapter):
    node_class = ForgetfulNode


def to_impl(msg):
    if isinstance(msg, RequestVote):
        return {"type": "request_vote", "term": msg.term}
    if isinstance(msg, Vote):
        return {"type": "vote", "term": msg.term, "granted": msg.granted}
    return {"type": "heartbeat", "term": msg.term}


def to_model(msg):
    if msg["type"] == "request_vote":
        return RequestVote(msg["term"])
    if msg["type"] == "vote":
        return Vote(msg["term"], msg["granted"])
    return Heartbeat(msg["term"])
