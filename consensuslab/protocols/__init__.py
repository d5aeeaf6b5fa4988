"""The protocol library, by command-line name.

Entries name a module and class so that ``consensuslab list`` and ``check``
import only what they use.
"""

from __future__ import annotations

import importlib

from consensuslab.errors import UsageError

REGISTRY: dict[str, str] = {
    "two-phase": "consensuslab.protocols.two_phase:TwoPhase",
    "two-phase-actors": "consensuslab.protocols.two_phase_actors:TwoPhaseActors",
    "hash-chain": "consensuslab.protocols.hash_chain:HashChain",
    "paxos": "consensuslab.protocols.paxos:Paxos",
    "paxos-actors": "consensuslab.protocols.paxos_actors:PaxosActors",
    "raft": "consensuslab.protocols.raft:Raft",
    "raft-election": "consensuslab.protocols.raft_election:RaftElection",
    "pbft": "consensuslab.protocols.pbft:PBFT",
    "byzantine-generals": "consensuslab.protocols.byzantine_generals:OralMessages",
    "byzantine-generals-signed": "consensuslab.protocols.byzantine_signed:SignedMessages",
    "nakamoto": "consensuslab.protocols.nakamoto:Nakamoto",
    "smr-raft": "consensuslab.protocols.smr_raft:SmrRaft",
    "smr-multipaxos": "consensuslab.protocols.smr_multipaxos:SmrMultiPaxos",
    "smr-clocks": "consensuslab.protocols.smr_clocks:SmrClocks",
}


def _load(target: str):
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def available() -> list[str]:
    """Names whose module is present, sorted."""
    names = []
    for name, target in REGISTRY.items():
        try:
            _load(target)
        except ModuleNotFoundError as exc:
            if exc.name and target.startswith(exc.name):
                continue
            raise
        names.append(name)
    return sorted(names)


def protocol_class(name: str):
    """The protocol class for a command-line name; a one-line error for unknown names.

    Only that protocol's module is imported (the others cost start-up time).
    """
    target = REGISTRY.get(name)
    if target is not None:
        try:
            return _load(target)
        except ModuleNotFoundError as exc:
            if not (exc.name and target.startswith(exc.name)):
                raise
    raise UsageError(f"unknown protocol {name!r}; valid: {', '.join(available())}")


def configure(name: str, params: dict | None = None, variant: str | None = None, scenario: str | None = None):
    """The protocol ``name`` configured as the command line asks (params may be text)."""
    return protocol_class(name).configure(params or {}, variant, scenario)
