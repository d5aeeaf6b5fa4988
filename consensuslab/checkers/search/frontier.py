"""A breadth-first frontier that spills to disk when memory runs short.

The seen-set holds 8-byte fingerprints, but a BFS level holds whole states,
and on wide state spaces the widest level is most of a run's memory.  When
the level being built grows past ``spill_after`` states, or the machine's
available memory falls under ``LOW_MEMORY`` of its total, the states found
so far go to a temporary file in chunks and the search goes on; the next
level is then read back one chunk at a time, so at most one chunk and the
unspilled tail are in memory.

The chunks are pickled: they are written and read by this one process, in a
private temporary directory deleted when the search ends, so nothing read
back was ever handed to us by anyone else.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from typing import Iterator

LOW_MEMORY = 0.10  # spill when less than this share of the machine's memory is available


def available_memory_share() -> float | None:
    """MemAvailable / MemTotal from /proc/meminfo, or None where there is no such file."""
    try:
        with open("/proc/meminfo", "rb") as f:
            fields = dict(line.split(b":", 1) for line in f.read().splitlines() if b":" in line)
        total = int(fields[b"MemTotal"].split()[0])
        available = int(fields[b"MemAvailable"].split()[0])
    except (OSError, KeyError, ValueError):
        return None
    return available / total if total else None


class SpillingFrontier:
    """The spilled part of one BFS level at a time; the in-memory tail stays a plain list."""

    def __init__(self, spill_after: int | None = None, low_memory: float = LOW_MEMORY):
        self.spill_after = spill_after
        self.low_memory = low_memory
        self.directory: tempfile.TemporaryDirectory | None = None
        self.chunks: list[str] = []  # files of the level being built, in order
        self.spilled = 0  # states in those files
        self.spilled_total = 0  # states ever written, for the result's statistics
        self._counter = 0

    def due(self, in_memory: int) -> bool:
        """Should the ``in_memory`` states of the level being built go to disk now?"""
        if not in_memory:
            return False
        if self.spill_after is not None:
            return in_memory >= self.spill_after
        share = available_memory_share()
        return share is not None and share < self.low_memory

    def spill(self, states: list) -> None:
        """Write ``states`` to a new chunk file and empty the list (the caller keeps appending to it)."""
        if self.directory is None:
            self.directory = tempfile.TemporaryDirectory(prefix="consensuslab-frontier-")
        self._counter += 1
        path = os.path.join(self.directory.name, f"chunk-{self._counter:06d}")
        with open(path, "wb") as f:
            pickle.dump(states, f, protocol=pickle.HIGHEST_PROTOCOL)
        self.chunks.append(path)
        self.spilled += len(states)
        self.spilled_total += len(states)
        states.clear()

    def level(self, tail: list) -> tuple[Iterator, int]:
        """The finished level to expand next: every spilled chunk in order, then ``tail``; and its size."""
        chunks, size = self.chunks, self.spilled + len(tail)
        self.chunks, self.spilled = [], 0
        if not chunks:
            return iter(tail), size
        return self._read(chunks, tail), size

    @staticmethod
    def _read(chunks: list[str], tail: list) -> Iterator:
        for path in chunks:
            with open(path, "rb") as f:
                states = pickle.load(f)  # our own file, written by spill() in this process
            os.unlink(path)
            yield from states
        yield from tail

    def close(self) -> None:
        if self.directory is not None:
            self.directory.cleanup()
            self.directory = None
