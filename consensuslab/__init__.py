"""consensuslab: distributed protocols as explicit state machines, checked.

The public API, flat: write a protocol with these names, check it with ``check``.
"""

from consensuslab.checkers.compiled.allocator import keep_freed_memory
from consensuslab.checkers.run import check
from consensuslab.errors import ModelError, ReplayError, UsageError
from consensuslab.models.action import Action
from consensuslab.models.effects import broadcast, cancel_timer, just, send, set_timer
from consensuslab.models.fairness import Fair
from consensuslab.models.faults import Byzantine, CrashRecover, CrashStop, Omission, durable
from consensuslab.models.model import Model
from consensuslab.models.network import Fifo, MessageSoup, Unordered
from consensuslab.models.params import Param
from consensuslab.models.properties import (
    always,
    always_eventually,
    always_step,
    eventually,
    initially,
    leads_to,
    sometimes,
)
from consensuslab.models.protocol import Protocol, forgeable, handles, initial, local, on_timer
from consensuslab.models.records import evolve, message, record, replace_at, state
from consensuslab.models.scenario import Scenario
from consensuslab.models.refinement import refines
from consensuslab.models.spec import Spec, action, constraint
from consensuslab.traces.result import CheckResult, Trace, Violation

__all__ = [
    "Action", "Byzantine", "CheckResult", "CrashRecover", "CrashStop", "Fair", "Fifo", "MessageSoup", "Model",
    "ModelError", "Omission", "Param", "Protocol", "ReplayError", "Scenario", "Spec", "Trace", "Unordered",
    "UsageError", "Violation", "action", "always", "always_eventually", "always_step", "broadcast",
    "cancel_timer", "check", "constraint", "durable", "eventually", "evolve", "forgeable", "handles", "initial",
    "initially", "just", "keep_freed_memory", "leads_to", "local", "message", "on_timer", "record", "refines",
    "replace_at", "send", "set_timer", "sometimes", "state",
]
