"""Which scenarios a CI run checks: every (protocol, scenario) pair, filtered, and this job's shard of them.

``--shard I/N`` splits the plan round-robin in its declared order (protocols
as listed, scenarios as declared), so the N shards are disjoint, cover the
plan, differ in size by one at most, and are the same on every machine.
"""

from __future__ import annotations

from consensuslab.checkers.variants.expect import scenario_names
from consensuslab.errors import UsageError


def build_plan(classes: list[type], only: list[str] | None = None) -> list[tuple[type, str]]:
    """``(class, scenario)`` for every scenario of ``classes`` (only those named in ``only``, if given)."""
    return [(cls, s) for cls in classes for s in scenario_names(cls) if not only or s in only]


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> ``(2, 3)``: the second of three shards, counted from 1."""
    index, slash, count = str(text).partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i = n = 0
    if not slash or n < 1 or not 1 <= i <= n:
        raise UsageError(f"--shard must be I/N with 1 <= I <= N (say 1/3), not {text!r}")
    return i, n


def take_shard(plan: list, index: int, count: int) -> list:
    """The ``index``-th of ``count`` round-robin shards of ``plan`` (``index`` from 1)."""
    return plan[index - 1::count]
