"""Writing logs: one JSON object per line, per node or merged, each file written whole."""

from __future__ import annotations

import json
import os
import re
from typing import Any, Iterable


def dumps_event(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"), sort_keys=False)


def write_log(path: str, events: Iterable[dict[str, Any]]) -> int:
    """Write ``events`` (dicts in the log format) to ``path``; the number written.

    The file is written under a temporary name and renamed, so a reader never
    sees half a log.
    """
    tmp = f"{path}.tmp{os.getpid()}"
    count = 0
    with open(tmp, "w", encoding="utf-8") as fh:
        for event in events:
            fh.write(dumps_event(event) + "\n")
            count += 1
    os.replace(tmp, path)
    return count


def write_per_node(directory: str, events: Iterable[dict[str, Any]], suffix: str = ".jsonl") -> dict[str, str]:
    """One file per node in ``directory`` (``NODE.jsonl``, characters other than letters, digits, ``_.-``
    replaced); node -> path."""
    os.makedirs(directory, exist_ok=True)
    by_node: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_node.setdefault(event["node"], []).append(event)
    out = {}
    for node, evs in sorted(by_node.items()):
        path = os.path.join(directory, re.sub(r"[^A-Za-z0-9_.-]", "_", node).lstrip(".") + suffix)
        write_log(path, evs)
        out[node] = path
    return out
