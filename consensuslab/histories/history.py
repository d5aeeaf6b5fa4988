"""Client histories in Jepsen's shape, and the register models they are checked against.

A history is a list of events ``{"process", "type", "f", "value", "key"?}``; an
*operation* pairs an ``invoke`` with the process's next ``ok``/``fail``/``info``.
Parsing is strict because a silently misread history gives a confident wrong
verdict: every malformed event is a ``UsageError`` naming its index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from consensuslab.errors import UsageError
from consensuslab.files import read_json

TYPES = ("invoke", "ok", "fail", "info")
NEMESIS = "nemesis"  # Jepsen's fault injector: its events are not client operations


@attrs.frozen
class Operation:
    """One client operation. ``value`` is the write's value, the cas pair, or what a read returned.

    ``invoke``/``complete`` are event positions in the history; ``complete`` is None when
    the history ends with the operation pending. ``status`` is ``ok``, ``fail`` (did not
    happen) or ``info`` (unknown: may take effect at any time after ``invoke``, or never).
    """

    index: int
    process: Any
    f: str
    value: Any
    invoke: int
    complete: int | None
    status: str
    key: Any = None

    def to_json(self) -> dict:
        value = list(self.value) if self.f == "cas" else self.value
        return {"index": self.index, "process": self.process, "type": self.status, "f": self.f,
                "key": self.key, "value": value, "invoke": self.invoke, "complete": self.complete}

    def describe(self) -> str:
        key = f"[{json.dumps(self.key)}]" if self.key is not None else ""
        value = self.value
        text = {"read": lambda: f"read{key} -> {json.dumps(value)}",
                "write": lambda: f"write{key} {json.dumps(value)}",
                "cas": lambda: f"cas{key} {json.dumps(value[0])} -> {json.dumps(value[1])}"}[self.f]()
        end = "end" if self.complete is None else self.complete
        return f"#{self.index} process {self.process}: {text} ({self.status}, events {self.invoke}..{end})"


@attrs.frozen
class Model:
    """A sequential specification: which ``f`` it accepts and whether ops name a key.

    All three are registers that start at ``null``; ``kv`` is one register per key, so its
    histories decompose per key (linearizability is compositional, Herlihy & Wing 1990).
    """

    name: str
    fs: tuple[str, ...]
    keyed: bool


MODELS = {
    "register": Model("register", ("read", "write"), keyed=False),
    "cas-register": Model("cas-register", ("read", "write", "cas"), keyed=False),
    "kv": Model("kv", ("read", "write", "cas"), keyed=True),
}


def get_model(model: str | Model) -> Model:
    if isinstance(model, Model):
        return model
    try:
        return MODELS[model]
    except KeyError:
        raise UsageError(f"unknown model {model!r} (expected one of {', '.join(MODELS)})") from None


def load_history(path: str | Path, model: str | Model) -> tuple[Operation, ...]:
    """Read a JSON history file and parse it; every failure is a one-line UsageError.

    The read is bounded in size and nesting (``files.read_json``): a history
    comes from outside, and nothing in it is trusted.
    """
    return parse_history(read_json(path, "history"), model)


def _name(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else repr(value)


def parse_history(events: Any, model: str | Model) -> tuple[Operation, ...]:
    """Pair invocations with completions; operations are returned in invocation order.

    An invocation still pending at the end is treated as ``info`` (Jepsen does the same).
    A read's value is taken from its ``ok``; a write's and a cas's from the invocation.
    """
    model = get_model(model)
    if not isinstance(events, list):
        raise UsageError(f"a history must be a JSON list of events, got {type(events).__name__}")
    pending: dict[Any, int] = {}          # process -> slot in `ops` of its open invocation
    ops: list[dict] = []
    for i, event in enumerate(events):
        if not isinstance(event, Mapping):
            raise UsageError(f"event {i}: expected a JSON object, got {type(event).__name__}")
        if "process" not in event:
            raise UsageError(f"event {i}: missing 'process'")
        process = event["process"]
        if process == NEMESIS:
            continue
        if isinstance(process, bool) or not isinstance(process, (int, str)):
            raise UsageError(f"event {i}: 'process' must be an integer or a string, got {_name(process)}")
        kind = event.get("type")
        if kind not in TYPES:
            raise UsageError(f"event {i}: unknown type {_name(kind)} (expected invoke, ok, fail or info)")
        f = event.get("f")
        if f not in model.fs:
            raise UsageError(f"event {i}: bad f {_name(f)} for the {model.name} model "
                             f"(expected {' or '.join(model.fs)})")
        if event.get("key") is not None and not model.keyed:
            raise UsageError(f"event {i}: has a 'key' but the {model.name} model has none (use --model kv)")
        if kind == "invoke":
            if process in pending:
                opened = ops[pending[process]]["invoke"]
                raise UsageError(f"event {i}: invoke while process {_name(process)} has an operation "
                                 f"pending (invoked at event {opened})")
            ops.append(_invocation(i, event, process, f, model))
            pending[process] = len(ops) - 1
            continue
        if process not in pending:
            raise UsageError(f"event {i}: {kind} for process {_name(process)} without a pending invoke")
        op = ops[pending.pop(process)]
        if f != op["f"]:
            raise UsageError(f"event {i}: {kind} has f {_name(f)} but process {_name(process)} "
                             f"invoked {_name(op['f'])} at event {op['invoke']}")
        if model.keyed and "key" in event and event["key"] != op["key"]:
            raise UsageError(f"event {i}: {kind} has key {_name(event['key'])} but the invoke at "
                             f"event {op['invoke']} has key {_name(op['key'])}")
        if f == "read" and kind == "ok":
            if "value" not in event:
                raise UsageError(f"event {i}: ok read without a 'value'")
            op["value"] = event["value"]
        op["complete"], op["status"] = i, kind
    return tuple(Operation(index=n, **op) for n, op in enumerate(ops))


def _invocation(i: int, event: Mapping, process: Any, f: str, model: Model) -> dict:
    key = None
    if model.keyed:
        if "key" not in event:
            raise UsageError(f"event {i}: missing 'key' (the kv model needs one on every invoke)")
        key = event["key"]
    value = event.get("value")
    if f == "cas":
        if not (isinstance(value, list) and len(value) == 2):
            raise UsageError(f"event {i}: cas value must be a pair [old, new], got {_name(value)}")
        value = tuple(value)
    elif f == "write" and "value" not in event:
        raise UsageError(f"event {i}: write without a 'value'")
    elif f == "read":
        value = None  # known only at completion
    return {"process": process, "f": f, "value": value, "key": key, "invoke": i,
            "complete": None, "status": "info"}


def partition(ops: Iterable[Operation], model: Model) -> list[tuple[Any, list[Operation]]]:
    """Split a history into independent sub-histories (one per key for ``kv``), in key order."""
    if not model.keyed:
        return [(None, list(ops))]
    groups: dict[str, tuple[Any, list[Operation]]] = {}
    for op in ops:
        groups.setdefault(canonical(op.key), (op.key, []))[1].append(op)
    return [groups[k] for k in sorted(groups)]


def canonical(value: Any) -> str:
    """A JSON spelling that is equal exactly when the JSON values are (``1``, ``1.0``, ``true`` differ)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
