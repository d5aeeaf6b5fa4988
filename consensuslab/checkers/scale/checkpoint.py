"""``--checkpoint DIR``: a time-boxed search saves where it stopped; the next run resumes there.

What is saved is data we can read back without executing anything:
``checkpoint.json`` (format version, the model's meta, counters, and a
SHA-256 over all of it and over every array file) and flat little-endian
int64 arrays: the seen fingerprints, the parent links (parent gid, successor
position) and the gids of the unexpanded frontier.  No states and no pickle:
frontier states are rebuilt on resume by re-applying the recorded successor
positions from the initial states (shared prefixes computed once).

Fingerprints here are ``stable_fingerprint`` (a hash of the canonical
encoding), not ``hash()``: the resuming process has another str-hash salt and
another address for ``None``, so ``hash()`` values would not match.  That
costs time per generated state (measured in benchmarks/bench_scale.py); only
checkpointed runs pay it.

Ctrl-C (SIGINT) saves too.  While a checkpointed search runs, SIGINT only
raises a flag; the search looks at it between slices of ``SLICE`` frontier
states, where the seen-set, parent links, next level and frontier agree, and
stops there as a time limit would (``stopped_by`` is then ``interrupted``).
Raising ``KeyboardInterrupt`` in the middle of a slice instead could leave a
fingerprint stored whose state was never queued or checked: a resumed run
would silently miss it.  A second Ctrl-C before saving begins stops at once
without saving (an older checkpoint in DIR stays as it was); during the save
it is ignored, so the files are never torn by it.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import threading
import time
from array import array
from pathlib import Path

from consensuslab.checkers.scale.partition import Partition, check_local, stable_fingerprint
from consensuslab.checkers.search.progress import Progress
from consensuslab.errors import UsageError

VERSION = 1
HEADER = "checkpoint.json"
ARRAYS = ("seen", "parents", "ks", "frontier", "next")
SLICE = 1024  # frontier states expanded between looks at the clock and at Ctrl-C


class Interrupt:
    """Ctrl-C as a flag while a checkpointed search runs (see the module docstring)."""

    def __init__(self):
        self.raised = False
        self.saving = False
        self._installed, self._previous = False, None

    def _handle(self, signum, frame):
        if self.raised and not self.saving:
            raise KeyboardInterrupt  # the second Ctrl-C: stop now, do not save
        self.raised = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # handlers live in the main thread only
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc):
        if self._installed:  # None: the previous handler was not set from Python
            signal.signal(signal.SIGINT, signal.SIG_DFL if self._previous is None else self._previous)
        return False


class _Slices(Partition):
    """A partition that expands its frontier in slices and stops between them on Ctrl-C or the deadline.

    Between slices every structure is consistent, so the partition can be saved
    there and resumed with nothing lost or counted twice.  Also reports progress
    (levels are counted here: ``check_local`` does not say which one it is on).
    """

    def __init__(self, *args, interrupt: Interrupt | None = None, progress: Progress | None = None,
                 depth: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.interrupt, self.progress, self.depth = interrupt, progress, depth

    def expand(self, deadline=None):
        frontier, pos = self.frontier, 0
        try:
            while pos < len(frontier):
                if (self.interrupt is not None and self.interrupt.raised) or \
                        (pos and deadline is not None and time.monotonic() >= deadline):
                    return None, True
                chunk = frontier[pos:pos + SLICE]
                self.frontier = chunk
                finding, stopped = super().expand(deadline)
                pos += len(chunk) - len(self.frontier)
                if finding is not None or stopped:
                    return finding, stopped
                if self.progress is not None:
                    now = time.monotonic()
                    if self.progress.due(now):
                        self.progress.report(now, len(self.store), self.depth, len(frontier) - pos + len(self.next))
            return None, False
        finally:
            self.frontier = frontier[pos:]

    def advance(self) -> int:
        size = super().advance()
        if size:
            self.depth += 1
        return size


def _identity(model, reduction: str | None) -> dict:
    """What must match for a checkpoint to belong to this run."""
    return {"meta": model.meta(), "reduction": reduction, "deadlock": model.check_deadlock,
            "properties": sorted(p.name for p in model.properties)}


def _digest(header: dict, blobs: dict[str, bytes]) -> str:
    h = hashlib.sha256(json.dumps(header, sort_keys=True, default=str).encode())
    for name in ARRAYS:
        h.update(name.encode())
        h.update(hashlib.sha256(blobs[name]).digest())
    return h.hexdigest()


def _to_bytes(values) -> bytes:
    arr = array("q", values)
    if sys.byteorder != "little":
        arr.byteswap()
    return arr.tobytes()


def _from_bytes(blob: bytes, code: str = "q") -> array:
    arr = array("q")
    arr.frombytes(blob)
    if sys.byteorder != "little":
        arr.byteswap()
    return arr if code == "q" else array(code, arr)


def save(directory: str, model, part: Partition, depth: int, reduction: str | None, seconds: float) -> None:
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    store = part.store
    blobs = {"seen": _to_bytes(store.seen), "parents": _to_bytes(store.parents), "ks": _to_bytes(store.ks),
             "frontier": _to_bytes(g for _, g in part.frontier), "next": _to_bytes(g for _, g in part.next)}
    header = {"format": "consensuslab-checkpoint", "version": VERSION, "identity": _identity(model, reduction),
              "depth": depth, "generated": part.generated, "witnessed": sorted(part.checks.witnessed),
              "seconds": seconds}
    for name, blob in blobs.items():  # arrays first, header last: a torn write leaves the old header
        tmp = path / f"{name}.q.tmp"
        tmp.write_bytes(blob)
        os.replace(tmp, path / f"{name}.q")
    doc = dict(header, sha256=_digest(header, blobs))
    tmp = path / (HEADER + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, default=str))
    os.replace(tmp, path / HEADER)


def load(directory: str, model, canon, reduction: str | None) -> tuple[Partition, int, float] | None:
    """The saved partition, depth and seconds, or None when DIR holds no checkpoint."""
    path = Path(directory)
    if not (path / HEADER).exists():
        return None
    try:
        doc = json.loads((path / HEADER).read_text())
        blobs = {name: (path / f"{name}.q").read_bytes() for name in ARRAYS}
    except (OSError, ValueError) as exc:
        raise UsageError(f"checkpoint {directory}: unreadable ({exc})") from None
    digest = doc.pop("sha256", None)
    if doc.get("format") != "consensuslab-checkpoint" or doc.get("version") != VERSION:
        raise UsageError(f"checkpoint {directory}: not a version-{VERSION} consensuslab checkpoint")
    if digest != _digest(doc, blobs):
        raise UsageError(f"checkpoint {directory}: integrity check failed (files changed or torn)")
    if doc["identity"] != json.loads(json.dumps(_identity(model, reduction), default=str)):
        raise UsageError(f"checkpoint {directory}: saved for another model or options "
                         f"({doc['identity']['meta']}); use another directory")
    part = _Slices(model, canon, stable_fingerprint, depth=doc["depth"])
    store = part.store
    store.seen = set(_from_bytes(blobs["seen"]))
    store.parents = _from_bytes(blobs["parents"])
    store.ks = _from_bytes(blobs["ks"], "l")
    part.generated = doc["generated"]
    part.checks.witnessed = set(doc["witnessed"])
    part.checks.pending = [p for p in part.checks.pending if p.name not in part.checks.witnessed]
    states = _Rebuilder(model, store, canon)
    part.frontier = [(states(g), g) for g in _from_bytes(blobs["frontier"])]
    part.next = [(states(g), g) for g in _from_bytes(blobs["next"])]
    return part, doc["depth"], doc["seconds"]


class _Rebuilder:
    """Frontier states from parent links: replay successor positions, caching shared ancestors."""

    def __init__(self, model, store, canon):
        self.model, self.store, self.canon = model, store, canon
        self.roots = model.initial_states()
        self.cache: dict[int, object] = {}

    def __call__(self, gid: int):
        path = []
        while gid not in self.cache:
            parent, k = self.store.link(gid)
            path.append((gid, parent, k))
            if parent < 0:
                break
            gid = parent
        for gid, parent, k in reversed(path):
            if parent < 0:
                state = self.roots[k]
            else:
                state = self.model.successors(self.cache[parent])[k][1]
            self.cache[gid] = self.canon(state) if self.canon else state
        return self.cache[path[0][0]] if path else self.cache[gid]


def check_checkpointed(model, directory: str, canon=None, max_states: int | None = None,
                       max_depth: int | None = None, time_limit: float | None = None, reduction: str | None = None,
                       progress: bool = True):
    """Search (resuming from DIR when it holds a checkpoint); save to DIR when a limit or Ctrl-C stops the run."""
    started = time.monotonic()
    with Interrupt() as interrupt:
        loaded = load(directory, model, canon, reduction)
        part, depth, before = loaded if loaded else (None, 0, 0.0)
        if part is None:
            part = _Slices(model, canon, stable_fingerprint)
            finding = part.seed()
            part.advance()
            part.depth = 0
            if finding:  # an initial state is already bad: the plain search reports it
                return check_local(model, canon, reduction=reduction)
        part.interrupt, part.progress = interrupt, Progress(enabled=progress)
        part.progress.start -= before  # states/s and elapsed over all runs, as the states shown are
        saved = []

        def on_stop(p, d):
            interrupt.saving = True
            save(directory, model, p, d, reduction, before + time.monotonic() - started)
            saved.append(d)

        # The deadline is checked by the slices (``_Slices.expand``); check_local passes it on.
        result = check_local(model, canon, max_states, max_depth, time_limit, reduction=reduction, part=part,
                             depth=depth, started=started, on_stop=on_stop)
        part.progress.close()
        if interrupt.raised and result.status == "incomplete" and result.stopped_by == "time-limit":
            result.stopped_by = "interrupted"
    if result.status != "incomplete" or result.stopped_by == "max-depth":
        for name in [HEADER] + [f"{n}.q" for n in ARRAYS]:  # finished: the next run starts afresh
            (Path(directory) / name).unlink(missing_ok=True)
    result.extra.update({"checkpoint": directory, "resumed": loaded is not None, "checkpoint_saved": bool(saved),
                         "seconds_all_runs": round(before + result.seconds, 3), "fingerprint": "stable"})
    return result


def saved_line(result) -> str:
    """The line a command prints on stderr when a run stopped and saved its checkpoint: where, and how to resume."""
    why = {"interrupted": "interrupted", "time-limit": "time limit reached",
           "max-states": "state limit reached"}.get(result.stopped_by, "stopped")
    return (f"{why}: checkpoint saved in {result.extra['checkpoint']} ({result.distinct_states:,} distinct states, "
            f"depth {result.depth}); run the same command again to resume from it")
