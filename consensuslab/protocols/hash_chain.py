"""A replicated append-only ledger made tamper-evident by hash links.

Every node keeps a copy of the chain.  Appends are agreed: each node adds the
same block and learns the new head hash.  A bounded adversary may rewrite the
content of one block in one node's copy and recompute every hash stored in
that copy; it cannot change what the other nodes hold or the agreed head.
A node verifies its copy from genesis against the agreed head hash.

Blocks are linked by real SHA-256 hashes (hashlib): a block's hash covers its
predecessor's hash and its payload, so rewriting block i changes every later
hash and, in the end, the head, which the adversary cannot change.

Variant ``unlinked``: a block's hash covers only its own payload and nodes
agree only on the newest block's hash, so an older block can be rewritten
without trace: the checker finds that rewrite.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import NamedTuple

from consensuslab.models.messages import Participants
from consensuslab.models.params import Param
from consensuslab.models.properties import always, always_step, sometimes
from consensuslab.models.records import record, replace_at
from consensuslab.models.scenario import Scenario
from consensuslab.models.spec import Spec, action

GENESIS_PREV = "0" * 64


@lru_cache(maxsize=None)
def sha256(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


@record
class Block(NamedTuple):
    payload: str
    prev: str  # the predecessor's hash ("" in the unlinked variant)
    hash: str


@record
class ChainState(NamedTuple):
    ledger: tuple  # ghost: the payloads really appended, in order
    head: str  # the agreed hash of the newest block
    copies: tuple  # copies[i]: node i's chain, a tuple of Blocks from genesis
    verified: tuple  # verified[i]: payloads of the longest prefix node i has verified
    tampers_left: int


class HashChain(Spec):
    name = "hash-chain"
    summary = "Replicated hash-linked ledger; an adversary rewrites one node's copy (immutability)"
    params = {
        "nodes": Param(3, "number of nodes holding a copy", min=1, max=6),
        "blocks": Param(2, "blocks appended after genesis", min=1, max=5),
        "values": Param(2, "distinct payloads a block can carry", min=1, max=4),
        "tampers": Param(1, "rewrites the adversary may make", min=0, max=3),
    }
    variants = {"unlinked": "a block's hash covers only its own payload; nodes agree on the newest hash only"}
    #: the nodes, each with its copy of the chain (appends are agreed by all: no messages are modelled)
    participants = Participants("NODES", per_node=("copies", "verified"))
    scenarios = (
        Scenario("default", "3 nodes, 2 blocks, 1 rewrite: every rewrite is detected", states=1517),
        Scenario("unlinked", "unlinked blocks: an older block is rewritten undetected",
                 variant="unlinked", expect="violation", expect_property="tamper_detected"),
    )

    def setup(self):
        self.NODES = tuple(f"n{i + 1}" for i in range(self.nodes))
        self.VALUES = tuple(f"v{i + 1}" for i in range(self.values))
        self.FORGED = self.VALUES + ("forged",)
        self.linked = self.variant != "unlinked"
        self.genesis = self.make_block("genesis", GENESIS_PREV)

    # -- hashing and verification -------------------------------------------------------
    def make_block(self, payload: str, prev: str) -> Block:
        if self.linked:
            return Block(payload, prev, sha256(prev, payload))
        return Block(payload, "", sha256(payload))

    def verifies(self, chain: tuple, head: str) -> bool:
        """Recompute the chain from genesis and compare with the agreed head hash."""
        if not chain or chain[0] != self.genesis:
            return False
        prev = chain[0].hash
        for block in chain[1:]:
            if block != self.make_block(block.payload, prev if self.linked else ""):
                return False
            prev = block.hash
        return prev == head

    def init(self):
        chain = (self.genesis,)
        yield ChainState((), self.genesis.hash, (chain,) * self.nodes, ((),) * self.nodes, self.tampers)

    # -- actions -----------------------------------------------------------------------
    @action(v="VALUES")
    def Append(self, s, v):
        """All nodes agree on a new block and learn the new head hash."""
        if len(s.ledger) < self.blocks:
            block = self.make_block(v, s.head)
            copies = tuple(c + (self.make_block(v, c[-1].hash),) if self.linked else c + (block,)
                           for c in s.copies)
            return s._replace(ledger=s.ledger + (v,), head=block.hash, copies=copies)

    @action(node="NODES", index=lambda self: range(1, self.blocks + 1), v="FORGED", by="node", fault=True)
    def Tamper(self, s, node, index, v):
        """Rewrite block ``index`` of one node's copy and recompute every hash after it."""
        i = self.NODES.index(node)
        chain = s.copies[i]
        if s.tampers_left > 0 and index < len(chain) and chain[index].payload != v:
            rewritten = list(chain[:index])
            for block in (chain[index]._replace(payload=v),) + chain[index + 1:]:
                rewritten.append(self.make_block(block.payload, rewritten[-1].hash))
            return s._replace(copies=replace_at(s.copies, i, tuple(rewritten)), tampers_left=s.tampers_left - 1)

    @action(node="NODES", by="node")
    def Verify(self, s, node):
        """The node checks its copy against the agreed head; a passing copy becomes its verified prefix."""
        i = self.NODES.index(node)
        chain = s.copies[i]
        if self.verifies(chain, s.head):
            payloads = tuple(b.payload for b in chain[1:])
            if payloads != s.verified[i]:
                return s._replace(verified=replace_at(s.verified, i, payloads))

    # -- properties --------------------------------------------------------------------
    @always
    def tamper_detected(self, s):
        """Any copy that differs from what was appended fails verification."""
        return all(tuple(b.payload for b in c[1:]) == s.ledger or not self.verifies(c, s.head)
                   for c in s.copies)

    @always_step
    def committed_prefix_immutable(self, before, act, after):
        """A prefix a node has verified is never replaced by a different one, only extended."""
        return all(new[:len(old)] == old for old, new in zip(before.verified, after.verified))

    @sometimes
    def tamper_happened(self, s):
        """The adversary can act (the checks are not vacuous)."""
        return s.tampers_left < self.tampers

    @sometimes
    def full_chain_verified(self, s):
        """A node can verify the whole chain."""
        return any(len(v) == self.blocks for v in s.verified)

    def explain(self, trace, violation=None) -> list[str]:
        """The rewritten block, and which nodes would notice it (every rendering shows these lines)."""
        lines, last = [], trace.states[-1]
        for k, (act, _) in enumerate(trace.steps, start=1):
            if act.name == "Tamper":
                node, index, v = act.args
                old = trace.states[k - 1].copies[self.NODES.index(node)][index].payload
                lines.append(f"step {k}: the adversary rewrote block {index} of {node}'s copy ({old} -> {v}) "
                             f"and recomputed every hash stored after it in that copy")
        for node, chain, done in zip(self.NODES, last.copies, last.verified):
            if tuple(b.payload for b in chain[1:]) == last.ledger:
                continue
            if self.verifies(chain, last.head):
                why = ("a block's hash covers only its payload and the nodes agree only on the newest hash"
                       if not self.linked else "its recomputed hashes end in the agreed head")
                lines.append(f"{node}'s rewritten copy still verifies against the agreed head "
                             f"{last.head[:10]}...: {node} cannot notice ({why})")
            else:
                lines.append(f"{node}'s copy no longer verifies against the agreed head: {node} notices when it "
                             f"verifies")
            if done != last.ledger[:len(done)]:
                lines.append(f"{node} has verified a forged chain: {', '.join(done)}")
            others = [n for n, c in zip(self.NODES, last.copies) if tuple(b.payload for b in c[1:]) == last.ledger]
            if others:
                lines.append(f"only a comparison with another copy ({', '.join(others)} hold the appended blocks) "
                             f"would show it")
        return lines

    def diff_view(self, s):
        """What ``consensuslab diff`` compares: whether what nodes verified is genuine or forged."""
        return frozenset("genuine" if v == s.ledger[:len(v)] else "forged" for v in s.verified if v)

    def done(self, s):
        """The workload is finite: once every block is appended, running out of steps is no deadlock."""
        return len(s.ledger) == self.blocks
