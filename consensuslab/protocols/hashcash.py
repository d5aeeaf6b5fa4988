"""Hashcash proof-of-work over SHA-256, small enough to run inside a model checker.

A block header is (parent hash, miner, height, payload, nonce); its hash is the
SHA-256 of an unambiguous encoding of those fields, and it carries a valid
proof iff that hash starts with ``bits`` zero bits (Back's hashcash, as in
section 4 of the Bitcoin paper).  With the default of 8 bits a block costs
about 256 hashes, so the proofs are real yet a model with hundreds of blocks
mines them in milliseconds.

Mining searches nonces upwards from 0, so the same header always gets the same
nonce: states, traces and counts are reproducible, and results are cached
(a header is mined once per process however many states contain it).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import NamedTuple

from consensuslab.models.records import record

DEFAULT_BITS = 8
#: the hash every first block links to (the genesis block is implicit)
GENESIS = hashlib.sha256(b"consensuslab genesis").digest()
#: a parent no block hashes to: links to it are broken links
NOWHERE = hashlib.sha256(b"consensuslab nowhere").digest()


@record
class Block(NamedTuple):
    """A block header; the model abstracts the body into ``payload``."""

    parent: bytes
    miner: str
    height: int
    payload: str
    nonce: int

    @property
    def digest(self) -> bytes:
        return block_hash(self)


def _encode(parent: bytes, miner: str, height: int, payload: str, nonce: int) -> bytes:
    """Length-prefixed fields, so no two headers share an encoding."""
    m, p = miner.encode(), payload.encode()
    return b"".join((parent, len(m).to_bytes(2, "big"), m, height.to_bytes(8, "big"),
                     len(p).to_bytes(2, "big"), p, nonce.to_bytes(8, "big")))


@lru_cache(maxsize=None)
def block_hash(block: Block) -> bytes:
    return hashlib.sha256(_encode(*block)).digest()


def meets(digest: bytes, bits: int) -> bool:
    """True iff ``digest`` starts with at least ``bits`` zero bits."""
    return int.from_bytes(digest, "big") >> (256 - bits) == 0 if bits else True


def valid_proof(block: Block, bits: int = DEFAULT_BITS) -> bool:
    return meets(block_hash(block), bits)


@lru_cache(maxsize=None)
def mine(parent: bytes, miner: str, height: int, payload: str, bits: int = DEFAULT_BITS) -> Block:
    """The header with the least nonce whose hash meets the difficulty."""
    prefix = _encode(parent, miner, height, payload, 0)[:-8]
    nonce = 0
    while True:
        digest = hashlib.sha256(prefix + nonce.to_bytes(8, "big")).digest()
        if meets(digest, bits):
            return Block(parent, miner, height, payload, nonce)
        nonce += 1


@lru_cache(maxsize=None)
def forge(parent: bytes, miner: str, height: int, payload: str, bits: int = DEFAULT_BITS) -> Block:
    """The header with the least nonce whose hash does NOT meet the difficulty (a bad proof)."""
    nonce = 0
    while valid_proof(Block(parent, miner, height, payload, nonce), bits):
        nonce += 1
    return Block(parent, miner, height, payload, nonce)
