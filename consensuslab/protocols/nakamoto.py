"""Nakamoto consensus: proof-of-work longest chain (Bitcoin paper, sections 4-5 and 11).

Honest miners extend the longest valid chain they know and publish every block;
they adopt a received chain only if it is valid (every header carries a real
SHA-256 hashcash proof and links to its predecessor) and strictly longer than
their own, so ties keep the chain seen first.  The adversary mines a private
chain from genesis, may publish it at any time, and may publish a chain ending
in a forged block (a bad proof, or a valid proof on a broken link) to exercise
rejection.  Mining and delivery are nondeterministic actions; ``max_blocks``
bounds the blocks found or forged.

Abstractions: a chain is a tuple of block hashes (genesis implicit) and
``blocks`` the frozenset of every header, standing in for block download; a
node receiving from a peer sees that peer's current best chain (headers-first
sync), so stale announcements are skipped.  ``delay`` is the network's bound
Delta, counted in blocks: at most ``delay`` blocks are found while an honest
node lags behind another.  With ``delay=0`` honest nodes never fork, which is
what lets ``common_prefix`` hold without an adversary; ``delay=1`` already
lets a scheduler keep two honest forks alive forever.
"""

from __future__ import annotations

from typing import NamedTuple

from consensuslab.models.messages import Participants
from consensuslab.models.params import Param
from consensuslab.models.properties import always, always_step, sometimes
from consensuslab.models.records import record, replace_at
from consensuslab.models.scenario import Scenario
from consensuslab.models.spec import Spec, action
from consensuslab.protocols import hashcash
from consensuslab.protocols.hashcash import GENESIS, NOWHERE, Block

ADVERSARY = "A"
PAYLOAD = {"honest": "pay", ADVERSARY: "double-spend", "forged": "forged"}
FLAWS = ("bad-proof", "bad-link")


@record
class Chains(NamedTuple):
    chains: tuple  # chains[i]: honest miner i's best chain, block hashes after genesis
    private: tuple  # the adversary's secret chain
    released: tuple  # the chain the adversary has published (may end in a forged block)
    blocks: frozenset  # every header found or forged so far
    lag: int  # blocks found while some honest node lags behind another


class Nakamoto(Spec):
    name = "nakamoto"
    summary = "Nakamoto proof-of-work longest chain: honest miners, a private-mining adversary"
    params = {
        "miners": Param(2, "honest miners", min=1, max=4),
        "adversary_blocks": Param(0, "blocks the adversary can mine (its hash power budget)", min=0),
        "max_blocks": Param(5, "blocks found or forged in total", min=1),
        "k": Param(1, "confirmation depth: blocks on top of a block before it counts as final", min=0),
        "delay": Param(0, "network bound Delta, in blocks found while an honest node lags", min=0),
        "difficulty": Param(hashcash.DEFAULT_BITS, "leading zero bits of a valid proof", min=1, max=20),
    }
    variants = {"no-validation": "honest nodes adopt a longer chain without checking proofs or links"}
    #: the honest miners and, with a budget, the adversary ``A``; a chain moves by Receive(m, src)
    participants = Participants("SOURCES", per_node={"chains": "MINERS"})
    scenarios = (
        Scenario("honest", "2 honest miners, no adversary, synchronous network", {"max_blocks": 5}, states=125),
        Scenario("weak-adversary", "an adversary with 2 blocks cannot revert a 1-deep block; "
                 "its forged blocks are rejected", {"miners": 1, "adversary_blocks": 2, "max_blocks": 5},
                 states=743),
        Scenario("private-mining", "the adversary mines 3 blocks in secret, then releases them",
                 {"miners": 1, "adversary_blocks": 3, "max_blocks": 5}, states=1020,
                 expect="violation", expect_property="k_deep_immutable"),
        Scenario("split-view", "2 adversary blocks delivered to one honest node split k=2 views",
                 {"k": 2, "adversary_blocks": 2, "max_blocks": 5}, states=2803,
                 expect="violation", expect_property="common_prefix"),
        Scenario("async", "no adversary, but Delta = 1 block: honest forks break common prefix",
                 {"k": 2, "delay": 1, "max_blocks": 5}, states=19,
                 expect="violation", expect_property="common_prefix"),
        Scenario("no-validation", "the weak adversary against nodes that skip validation",
                 {"miners": 1, "adversary_blocks": 2, "max_blocks": 5}, variant="no-validation",
                 states=9, expect="violation", expect_property="honest_chains_valid"),
    )

    def setup(self):
        self.MINERS = tuple(f"m{i + 1}" for i in range(self.miners))
        self.SOURCES = self.MINERS + ((ADVERSARY,) if self.adversary_blocks else ())
        self.FLAWS = FLAWS if self.adversary_blocks else ()
        self.index = {m: i for i, m in enumerate(self.MINERS)}
        self.headers: dict[bytes, Block] = {}  # content-addressed: hash -> header
        self._valid: dict[tuple, bool] = {}
        if not self.adversary_blocks:  # nothing for the adversary's witnesses to witness
            self.disabled_properties = ("forgery_outruns_honest", "adversary_block_adopted")

    def init(self):
        yield Chains(((),) * self.miners, (), (), frozenset(), 0)

    # -- blocks and chains ---------------------------------------------------------
    def _new(self, block: Block) -> bytes:
        digest = block.digest
        self.headers[digest] = block
        return digest

    def _mine(self, chain: tuple, miner: str, payload: str) -> Block:
        tip = chain[-1] if chain else GENESIS
        return hashcash.mine(tip, miner, len(chain) + 1, payload, self.difficulty)

    def valid(self, chain: tuple) -> bool:
        """Every header is known, carries a valid proof, and links to the one before."""
        ok = self._valid.get(chain)
        if ok is None:
            ok, parent = True, GENESIS
            for height, digest in enumerate(chain, 1):
                b = self.headers.get(digest)
                if b is None or b.parent != parent or b.height != height or not hashcash.valid_proof(b, self.difficulty):
                    ok = False
                    break
                parent = digest
            self._valid[chain] = ok
        return ok

    def _step(self, s: Chains, mined: bool, **changes) -> Chains:
        """Apply ``changes`` and keep the lag count of the Delta bound."""
        new = s._replace(**changes)
        if self._synced(new):
            return new._replace(lag=0)
        return new._replace(lag=s.lag + 1) if mined and not self._synced(s) else new

    def _synced(self, s: Chains) -> bool:
        return len({len(c) for c in s.chains}) == 1

    def _may_mine(self, s: Chains) -> bool:
        return len(s.blocks) < self.max_blocks and (s.lag < self.delay or self._synced(s))

    # -- honest miners -------------------------------------------------------------
    @action(m="MINERS", by="m")
    def Mine(self, s, m):
        if self._may_mine(s):
            i = self.index[m]
            block = self._mine(s.chains[i], m, PAYLOAD["honest"])
            chain = s.chains[i] + (self._new(block),)
            return self._step(s, True, chains=replace_at(s.chains, i, chain), blocks=s.blocks | {block})

    @action(m="MINERS", src="SOURCES", by="m")
    def Receive(self, s, m, src):
        """``m`` receives ``src``'s best chain; it adopts it only if valid and strictly longer."""
        if src == m:
            return None
        i = self.index[m]
        chain = s.released if src == ADVERSARY else s.chains[self.index[src]]
        if len(chain) > len(s.chains[i]) and (self.variant == "no-validation" or self.valid(chain)):
            return self._step(s, False, chains=replace_at(s.chains, i, chain))

    # -- the adversary ---------------------------------------------------------------
    @action(by=ADVERSARY, fault=True)
    def AdversaryMine(self, s):
        if len(s.private) < self.adversary_blocks and self._may_mine(s):
            block = self._mine(s.private, ADVERSARY, PAYLOAD[ADVERSARY])
            return self._step(s, True, private=s.private + (self._new(block),), blocks=s.blocks | {block})

    @action(by=ADVERSARY, fault=True)
    def AdversaryRelease(self, s):
        if s.private and s.released != s.private:
            return s._replace(released=s.private)

    @action(flaw="FLAWS", by=ADVERSARY, fault=True)
    def AdversaryForge(self, s, flaw):
        """Publish the private chain plus a block with a bad proof, or a good proof on a broken link."""
        if len(s.blocks) >= self.max_blocks:
            return None
        tip, height = (s.private[-1] if s.private else GENESIS), len(s.private) + 1
        if flaw == "bad-proof":
            block = hashcash.forge(tip, ADVERSARY, height, PAYLOAD["forged"], self.difficulty)
        else:
            block = hashcash.mine(NOWHERE, ADVERSARY, height, PAYLOAD["forged"], self.difficulty)
        return s._replace(released=s.private + (self._new(block),), blocks=s.blocks | {block})

    def explain(self, trace, violation=None) -> list[str]:
        """The forks, and the block a switch of chains reverted (every rendering shows these lines)."""
        def block(d) -> str:
            b = self.headers[d]
            return f"{d.hex()[:12]} (height {b.height}, {b.miner}, {b.payload})"

        lines, states = [], trace.states
        for k, (act, after) in enumerate(trace.steps, start=1):
            for m, old, new in zip(self.MINERS, states[k - 1].chains, after.chains):
                common = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
                if common < len(old):
                    lines.append(f"step {k}: {m} switched to a longer chain from {act.args[-1]} "
                                 f"({len(old)} -> {len(new)} blocks); reverted: "
                                 + ", ".join(block(d) for d in old[common:]))
        last = states[-1]
        for (a, ca), (b, cb) in zip(zip(self.MINERS, last.chains), list(zip(self.MINERS, last.chains))[1:]):
            fork = next((i for i, (x, y) in enumerate(zip(ca, cb)) if x != y), None)
            if fork is not None:
                lines.append(f"fork at height {fork + 1}: {a} holds {block(ca[fork])}, {b} holds {block(cb[fork])}")
        if last.private and last.released != last.private:
            lines.append(f"the adversary still keeps {len(last.private) - len(last.released)} block(s) private")
        return lines

    def done(self, s):
        """The block budget is spent (every honest node has caught up, or never will)."""
        return len(s.blocks) >= self.max_blocks

    # -- properties ------------------------------------------------------------------
    @always
    def honest_chains_valid(self, s):
        """Honest nodes only ever hold chains of valid, linked proofs of work."""
        return all(self.valid(c) for c in s.chains)

    @always
    def common_prefix(self, s):
        """Any honest chain without its last k blocks is a prefix of every honest chain."""
        for a in s.chains:
            stable = a[:len(a) - self.k] if len(a) > self.k else ()
            if any(b[:len(stable)] != stable for b in s.chains):
                return False
        return True

    @always_step
    def k_deep_immutable(self, before, action, after):
        """A block with k blocks on top of it in an honest chain never leaves that chain."""
        for old, new in zip(before.chains, after.chains):
            buried = old[:len(old) - self.k] if len(old) > self.k else ()
            if new[:len(buried)] != buried:
                return False
        return True

    @sometimes
    def block_buried_k_deep(self, s):
        """Some honest chain holds a block k deep (k_deep_immutable is not vacuous)."""
        return any(len(c) > self.k for c in s.chains)

    @sometimes
    def forgery_outruns_honest(self, s):
        """The adversary has published an invalid chain longer than an honest one: rejection matters."""
        return any(len(s.released) > len(c) for c in s.chains) and not self.valid(s.released)

    @sometimes
    def adversary_block_adopted(self, s):
        """An honest node switched to the adversary's blocks: it wins races, just not k deep."""
        return any(self.headers[d].miner == ADVERSARY for c in s.chains for d in c)
