"""The Informal Trace Format (ITF), as Apalache and Quint read and write it.

Integers are ``{"#bigint": "..."}``, tuples ``{"#tup": [...]}``, sets
``{"#set": [...]}`` (sorted, so a trace file is byte-for-byte deterministic),
maps ``{"#map": [[k, v], ...]}``, records plain objects, and attrs values
(messages, per-role states) Quint-style variants ``{"tag": ..., "value": ...}``.
Each state's ``#meta`` records the action that led to it.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from consensuslab.errors import UsageError
from consensuslab.models.action import Action


def encode(value: Any) -> Any:
    if value is None:
        return {"tag": "None", "value": {"#tup": []}}
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {"#bigint": str(value)}
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return {"#bytes": value.hex()}
    if isinstance(value, float):
        return {"#unserializable": repr(value)}
    if isinstance(value, (frozenset, set)):
        items = [encode(v) for v in value]
        items.sort(key=_dump)
        return {"#set": items}
    if isinstance(value, dict):
        pairs = [[encode(k), encode(v)] for k, v in value.items()]
        pairs.sort(key=lambda kv: _dump(kv[0]))
        return {"#map": pairs}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: encode(v) for k, v in value._asdict().items()}
    if isinstance(value, tuple):
        return {"#tup": [encode(v) for v in value]}
    if isinstance(value, Action):
        return encode_action(value)
    if attrs.has(type(value)):
        fields = {f.name: encode(getattr(value, f.name)) for f in attrs.fields(type(value)) if f.init}
        return {"tag": type(value).__name__, "value": fields}
    return {"#unserializable": repr(value)}


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def encode_action(action: Action) -> dict[str, Any]:
    return {"kind": action.kind, "name": action.name, "node": action.node,
            "args": [encode(a) for a in action.args]}


def same(a: Any, b: Any) -> bool:
    """Equality of two encoded values, independent of key order."""
    return _dump(a) == _dump(b)


def trace_document(model, trace, violation=None, status: str | None = None) -> dict[str, Any]:
    """An ITF document for ``trace``; ``#meta`` says what it is a trace of."""
    from consensuslab.models.action import describe_action

    states = []
    for i, state in enumerate(trace.states):
        encoded = {k: encode(v) for k, v in model.encode_state(state).items()}
        act = trace.steps[i - 1][0] if i > 0 else None
        encoded["#meta"] = {"index": i, "action": encode_action(act) if act else None,
                            "label": describe_action(act) if act else "initial state"}
        states.append(encoded)
    variables = [k for k in (states[0] if states else {}) if k != "#meta"]
    meta = {"format": "ITF", "source": "consensuslab", **_plain(model.meta())}
    if violation is not None:
        meta.update({"property": violation.property, "kind": violation.kind, "status": status or "violation"})
    doc = {"#meta": meta, "vars": variables, "states": states}
    if trace.loop is not None:
        doc["loop"] = trace.loop
    return doc


def _plain(meta: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(meta, default=str))


def write_trace(path: str, model, trace, violation=None, status: str | None = None) -> None:
    doc = trace_document(model, trace, violation, status)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, sort_keys=False)
        fh.write("\n")


#: what a trace must say it is a trace of, and the exit code its violation gives; a ``behaviour`` is no
#: violation but a behaviour shown to be the model's (the one a validated log was explained by)
TRACE_KINDS = ("invariant", "transition", "deadlock", "liveness", "behaviour")


def load_document(path: str) -> dict[str, Any]:
    """Read and shape-check an ITF trace file; one-line UsageErrors for anything malformed."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        raise UsageError(f"trace file {path!r} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"trace file {path!r} is a directory") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"trace file {path!r} is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("states"), list) or not doc["states"]:
        raise UsageError(f"trace file {path!r} is not an ITF trace: it needs a non-empty 'states' list")
    meta = doc.get("#meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("protocol"), str):
        raise UsageError(f"trace file {path!r} has no '#meta.protocol': it does not say what it is a trace of")
    for i, st in enumerate(doc["states"]):
        if not isinstance(st, dict) or not isinstance(st.get("#meta"), dict):
            raise UsageError(f"trace file {path!r}: state {i} is not an object with '#meta'")
        if i > 0 and not isinstance(st["#meta"].get("action"), dict):
            raise UsageError(f"trace file {path!r}: state {i} does not record the action that led to it")
    if meta.get("kind") not in TRACE_KINDS:
        raise UsageError(f"trace file {path!r}: '#meta.kind' must be one of {', '.join(TRACE_KINDS)}")
    if not isinstance(meta.get("property"), str):
        raise UsageError(f"trace file {path!r}: '#meta.property' names no property")
    return doc
