"""Reading logs users hand us: JSON lines, bounded in size and depth, one-line errors naming file and line.

A log file is untrusted input.  Every limit below is checked before the value
it bounds is built: a file's size before reading it, a line's length before
parsing it, nesting depth while parsing (Python's parser would otherwise
recurse), and the shape of every required field.  Anything wrong is one
``UsageError`` line ``FILE:LINE: what is wrong (what is valid)``.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import zlib
from typing import Any

import attrs

from consensuslab.errors import UsageError
from consensuslab.logs.event import Event, Log


@attrs.frozen
class Limits:
    """How much of a log is read at most; exceeding one is an error naming it."""

    file_bytes: int = 512 * 2 ** 20
    line_bytes: int = 2 ** 20
    events: int = 2_000_000
    depth: int = 64
    files: int = 1024
    name_chars: int = 200


DEFAULT_LIMITS = Limits()
MAX_SEQ = 2 ** 53


def read_log(paths: list[str], limits: Limits = DEFAULT_LIMITS) -> Log:
    """The log in ``paths``: one file per node, or files holding several nodes (the ``node`` field says
    whose each event is), or directories of ``*.jsonl`` (and ``*.jsonl.gz``) files."""
    files = _expand(paths, limits)
    by_node: dict[str, dict[int, Event]] = {}
    count = 0
    for path in files:
        for event in _read_file(path, limits):
            count += 1
            if count > limits.events:
                raise UsageError(f"{event.where}: more than {limits.events:,} events; split the log or raise the limit")
            seen = by_node.setdefault(event.node, {})
            if event.seq in seen:
                raise UsageError(f"{event.where}: node {event.node!r} has two events with seq {event.seq} "
                                 f"(the other at {seen[event.seq].where}); seq numbers a node's events in its order")
            seen[event.seq] = event
    if not by_node:
        raise UsageError(f"{', '.join(paths)}: no events (a log is one JSON object per line)")
    events = {node: tuple(evs[k] for k in sorted(evs)) for node, evs in by_node.items()}
    return Log(events, tuple(files))


def _expand(paths: list[str], limits: Limits) -> list[str]:
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            inside = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith((".jsonl", ".jsonl.gz")))
            if not inside:
                raise UsageError(f"log directory {path!r} holds no *.jsonl (or *.jsonl.gz) file")
            files.extend(inside)
        elif os.path.exists(path):
            files.append(path)
        else:
            raise UsageError(f"log file {path!r} does not exist")
    if len(files) > limits.files:
        raise UsageError(f"{len(files)} log files; at most {limits.files} are read")
    return files


def _read_file(path: str, limits: Limits):
    """A file's events; a ``.gz`` file is read through gzip, its uncompressed size bounded as it is read."""
    size = os.path.getsize(path)
    if size > limits.file_bytes:
        raise UsageError(f"log file {path!r} is {size:,} bytes; at most {limits.file_bytes:,} are read")
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            number, total = 0, 0
            while True:
                raw = fh.readline(limits.line_bytes + 1)
                if not raw:
                    return
                number, total = number + 1, total + len(raw)
                where = f"{path}:{number}"
                if total > limits.file_bytes:
                    raise UsageError(f"{where}: more than {limits.file_bytes:,} bytes uncompressed")
                if len(raw) > limits.line_bytes:
                    raise UsageError(f"{where}: line longer than {limits.line_bytes:,} bytes")
                if not raw.strip():
                    continue
                yield parse_event(raw, where, limits)
    except (OSError, EOFError, zlib.error) as exc:  # a truncated or corrupt .gz
        raise UsageError(f"log file {path!r} cannot be read: {exc}") from None


def parse_event(raw: bytes | str, where: str, limits: Limits = DEFAULT_LIMITS) -> Event:
    """One line of a log as an ``Event``; a ``UsageError`` naming ``where`` for anything malformed."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        obj = json.loads(text, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise UsageError(f"{where}: not UTF-8 text") from None
    except RecursionError:
        raise UsageError(f"{where}: nested deeper than {limits.depth} levels") from None
    except ValueError as exc:  # JSONDecodeError, and integers longer than Python parses
        raise UsageError(f"{where}: not a JSON object: {str(exc).splitlines()[0][:120]}") from None
    if not isinstance(obj, dict):
        raise UsageError(f"{where}: an event must be a JSON object, got {type(obj).__name__}")
    _check_depth(obj, where, limits.depth)
    node = _name(obj, "node", where, limits)
    kind = _name(obj, "kind", where, limits)
    seq = _seq(obj.get("seq"), "seq", where)
    clock = obj.get("clock")
    if clock is not None and (isinstance(clock, bool) or not isinstance(clock, (int, float))
                              or not math.isfinite(clock)):
        raise UsageError(f"{where}: 'clock' must be a number, got {json.dumps(clock)[:40]}")
    link = obj.get("link")
    if link is not None:
        if not isinstance(link, dict) or set(link) != {"node", "seq"}:
            raise UsageError(f"{where}: 'link' must be {{\"node\": NAME, \"seq\": N}} naming the send")
        _name(link, "node", where, limits, "link.node")
        _seq(link["seq"], "link.seq", where)
    return Event(node, seq, kind, obj, where)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _name(obj: dict, key: str, where: str, limits: Limits, label: str | None = None) -> str:
    value = obj.get(key)
    label = label or key
    if not isinstance(value, str) or not value:
        raise UsageError(f"{where}: '{label}' must be a non-empty string, got {json.dumps(value)[:40]}")
    if len(value) > limits.name_chars:
        raise UsageError(f"{where}: '{label}' is longer than {limits.name_chars} characters")
    return value


def _seq(value: Any, label: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_SEQ:
        raise UsageError(f"{where}: '{label}' must be a whole number from 0 to 2^53, got {json.dumps(value)[:40]}")
    return value


def _check_depth(obj: Any, where: str, limit: int) -> None:
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            raise UsageError(f"{where}: nested deeper than {limit} levels")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
