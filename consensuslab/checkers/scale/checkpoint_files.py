"""A checkpoint on disk: written so that no crash loses it, read as untrusted input.

Layout of ``DIR``: ``checkpoint.json`` (the header: format version, what the
search is of, counters, and per array file its length and SHA-256, with a
SHA-256 over the header itself) and a generation folder ``gNNNNNN/`` holding
flat little-endian int64 arrays: the seen fingerprints, the parent links
(parent gid, successor position) and the gids of the unexpanded frontier and
of the next level.  No states and no pickle: nothing read back is executed.

Writing (``save``): a new generation folder is written and flushed to disk
first; then the header is replaced atomically (temporary file, fsync,
rename); only then are older generations removed.  A ``kill -9`` (or a full
disk) at any moment leaves the previous checkpoint intact and current.

Reading (``load``): everything is checked before it is used, and any
failure is one ``UsageError`` line: bounded JSON (size, depth), exact types of
every header field, array lengths equal to what the header says and to each
other, hashes, and the shape a level-synchronous search leaves (each parent
older than its child, the frontier and the next level contiguous runs of
gids at the end).  ``checkpoint.py`` then re-expands a sample of the saved
states on resume.

What this protects against: torn and partial writes, crashes while saving,
disk corruption, truncation, files from another model, parameters,
protocol source or tool version, and hand edits that break the structure.
What it does not: someone who edits the arrays consistently *and* recomputes
every hash can still hide a few states from the search; the sample
re-expansion on resume catches such an edit only with a probability that
grows with the share of states it touches.  A checkpoint is a convenience,
not a certificate: for a verdict to rely on, run without ``--checkpoint``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from array import array
from pathlib import Path

import numpy as np

from consensuslab.errors import UsageError
from consensuslab.files import OutputError, read_bytes, read_json, sync_directory, write_atomic

FORMAT = "consensuslab-checkpoint"
VERSION = 2
HEADER = "checkpoint.json"
ARRAYS = ("seen", "parents", "ks", "frontier", "next")
GENERATION = re.compile(r"g\d{6}")
#: the most states a checkpoint may claim (about 2 TB of arrays): a guard against absurd headers
MAX_STATES = 1 << 37


def tool_version() -> str:
    try:
        from importlib.metadata import version

        return version("consensuslab")
    except Exception:  # noqa: BLE001 - not installed: running from a source tree
        return "source"


def _to_bytes(values) -> bytes:
    arr = array("q", values)
    if sys.byteorder != "little":
        arr.byteswap()
    return arr.tobytes()


def _from_bytes(blob: bytes) -> array:
    arr = array("q")
    arr.frombytes(blob)
    if sys.byteorder != "little":
        arr.byteswap()
    return arr


def _digest(header: dict) -> str:
    return hashlib.sha256(json.dumps(header, sort_keys=True, default=str).encode()).hexdigest()


def save(directory: str, header: dict, arrays: dict) -> None:
    """Write a new generation of ``arrays`` (name -> iterable of ints), then the header naming it.

    ``OutputError`` (one line) when the disk or the directory refuses; the
    previous checkpoint then stays as it was.
    """
    path = Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
        number = 1 + max((int(p.name[1:]) for p in path.iterdir() if GENERATION.fullmatch(p.name)), default=0)
        gen = path / f"g{number:06d}"
        gen.mkdir()
        files = {}
        for name in ARRAYS:
            blob = _to_bytes(arrays[name])
            with open(gen / f"{name}.q", "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            files[name] = {"count": len(blob) // 8, "sha256": hashlib.sha256(blob).hexdigest()}
        sync_directory(str(gen))
    except OSError as exc:
        raise OutputError(f"cannot save checkpoint in {directory!r}: {exc.strerror or exc}") from None
    doc = dict(header, format=FORMAT, version=VERSION, generation=gen.name, arrays=files)
    doc["sha256"] = _digest(doc)
    write_atomic(path / HEADER, json.dumps(doc, indent=1, default=str), "checkpoint")
    remove_generations(directory, keep=gen.name)


def remove_generations(directory: str, keep: str | None = None) -> None:
    """Delete every generation folder but ``keep`` (all of them, and the header, when ``keep`` is None)."""
    path = Path(directory)
    if keep is None:
        (path / HEADER).unlink(missing_ok=True)
    for p in path.iterdir() if path.is_dir() else ():
        if GENERATION.fullmatch(p.name) and p.name != keep:
            shutil.rmtree(p, ignore_errors=True)


def exists(directory: str) -> bool:
    return (Path(directory) / HEADER).exists()


def load(directory: str, identity: dict) -> tuple[dict, dict[str, array]]:
    """(header, arrays) of the checkpoint in ``directory``, every field checked (see the module docstring)."""
    where = f"checkpoint {directory}"
    doc = read_json(Path(directory) / HEADER, "checkpoint header", max_bytes=16 * 1024 * 1024, max_depth=32)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise UsageError(f"{where}: not a consensuslab checkpoint")
    if doc.get("version") != VERSION:
        raise UsageError(f"{where}: a version-{doc.get('version')!r} checkpoint; this consensuslab reads version "
                         f"{VERSION} (delete the directory to start afresh)")
    digest = doc.pop("sha256", None)
    if digest != _digest(doc):
        raise UsageError(f"{where}: integrity check failed (the header was changed or torn)")
    _check_header(where, doc)
    if doc["identity"] != json.loads(json.dumps(identity, default=str)):
        raise UsageError(f"{where}: saved for another model, options, protocol source or consensuslab version "
                         f"({_describe(doc['identity'])}); use another directory")
    arrays = {}
    for name in ARRAYS:
        info = doc["arrays"][name]
        blob = read_bytes(Path(directory) / doc["generation"] / f"{name}.q", "checkpoint file",
                          max_bytes=8 * info["count"])
        if len(blob) != 8 * info["count"] or hashlib.sha256(blob).hexdigest() != info["sha256"]:
            raise UsageError(f"{where}: integrity check failed ({name}.q was changed, torn or truncated)")
        arrays[name] = _from_bytes(blob)
    check_structure(where, doc, arrays)
    return doc, arrays


def _describe(identity) -> str:
    meta = identity.get("meta") if isinstance(identity, dict) else None
    if not isinstance(meta, dict):
        return "unknown"
    return f"{meta.get('protocol')} {meta.get('params')}, variant {meta.get('variant')}, scenario {meta.get('scenario')}"


def _is_int(x, low: int = 0, high: int = MAX_STATES) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and low <= x <= high


def _check_header(where: str, doc: dict) -> None:
    """Every header field has the type and range a saved search gives it."""
    def bad(field: str, what: str):
        raise UsageError(f"{where}: header field {field!r} must be {what}")

    if not isinstance(doc.get("identity"), dict):
        bad("identity", "an object")
    if not (isinstance(doc.get("generation"), str) and GENERATION.fullmatch(doc["generation"])):
        bad("generation", "a generation folder name gNNNNNN")
    if not _is_int(doc.get("depth"), 0, 1 << 31):
        bad("depth", "a whole number >= 0")
    if not _is_int(doc.get("generated"), 0, 1 << 62):
        bad("generated", "a whole number >= 0")
    if not (isinstance(doc.get("witnessed"), list) and all(isinstance(w, str) for w in doc["witnessed"])):
        bad("witnessed", "a list of property names")
    seconds = doc.get("seconds")
    if not (isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and 0 <= seconds < 1e9):
        bad("seconds", "a number of seconds >= 0")
    arrays = doc.get("arrays")
    if not (isinstance(arrays, dict) and set(arrays) == set(ARRAYS)):
        bad("arrays", f"an object naming exactly {', '.join(ARRAYS)}")
    for name in ARRAYS:
        info = arrays[name]
        if not (isinstance(info, dict) and _is_int(info.get("count"))
                and isinstance(info.get("sha256"), str) and re.fullmatch(r"[0-9a-f]{64}", info["sha256"])):
            bad(f"arrays.{name}", "an object with a count and a SHA-256")


def check_structure(where: str, doc: dict, arrays: dict[str, array]) -> None:
    """The arrays must have the shape a level-synchronous breadth-first search leaves behind."""
    seen, parents, ks, frontier, nxt = (arrays[n] for n in ARRAYS)
    n = len(parents)

    def bad(what: str):
        raise UsageError(f"{where}: not a saved search ({what})")

    if len(ks) != n or len(seen) != n:
        bad(f"{len(seen)} fingerprints, {n} parent links and {len(ks)} successor positions")
    if not n:
        bad("no state")
    fps = np.frombuffer(seen, dtype=np.int64)
    if len(np.unique(fps)) != n:
        bad("a fingerprint is stored twice")
    up, pos = np.frombuffer(parents, dtype=np.int64), np.frombuffer(ks, dtype=np.int64)
    wrong = np.flatnonzero((up < -1) | (up >= np.arange(n, dtype=np.int64)) | (pos < 0))
    if len(wrong):
        gid = int(wrong[0])
        bad(f"state {gid} has parent {parents[gid]} and position {ks[gid]}: a parent is always older")
    _contiguous(bad, "frontier", frontier, nxt[0] if len(nxt) else n)
    _contiguous(bad, "next level", nxt, n)
    if not len(frontier) and not len(nxt):
        bad("nothing left to expand: a finished search is not saved")


def _contiguous(bad, name: str, gids: array, end: int) -> None:
    """``gids`` must be the run ``end - len(gids) .. end - 1``: BFS numbers states as it finds them."""
    run = np.arange(end - len(gids), end, dtype=np.int64)
    if not np.array_equal(np.frombuffer(gids, dtype=np.int64), run):
        bad(f"the {name} is not the run of the last states found")
