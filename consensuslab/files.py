"""Reading the files a user hands us, and writing the files we hand back, without trusting either.

Reading: a file someone passes us (a trace, a history, a network, a
checkpoint) may be huge, endless (a symlink to ``/dev/zero``), or nested a
hundred thousand levels deep.  ``read_json`` reads regular files only, at most
``MAX_BYTES``, and refuses nesting deeper than ``MAX_DEPTH`` (Python's JSON
parser would raise ``RecursionError``, and every recursive walk over the
result after it), each as one line naming the file.

Writing: a half-written trace or checkpoint is worse than none, since the
next reader trusts it.  ``write_atomic`` writes a temporary file in the same
directory, flushes it to disk (``fsync``) and renames it over the target, so
the target is always either the old file or the complete new one; a full
disk, a missing or read-only directory, or a target that is a directory is
one ``OutputError`` line.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from itertools import accumulate
from typing import Any

from consensuslab.errors import UsageError

#: the largest file read (bytes): a year of a busy system's history fits; /dev/zero does not
MAX_BYTES = 256 * 1024 * 1024
#: the deepest nesting accepted; traces of the bundled protocols nest under 20 levels
MAX_DEPTH = 200


class OutputError(UsageError):
    """A file we were asked to write could not be written (one line, exit 2)."""


def read_bytes(path: str | os.PathLike, what: str, max_bytes: int = MAX_BYTES) -> bytes:
    """The content of regular file ``path``, at most ``max_bytes``; one-line UsageErrors otherwise."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if stat.S_ISDIR(mode):
                raise UsageError(f"{what} {name!r} is a directory")
            if not stat.S_ISREG(mode):
                raise UsageError(f"{what} {name!r} is not a regular file (a device, pipe or socket)")
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise UsageError(f"{what} {name!r} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {name!r} is a directory") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {name!r}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise UsageError(f"{what} {name!r} is larger than {max_bytes // (1024 * 1024)} MB")
    return data


def read_json(path: str | os.PathLike, what: str, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse the JSON file ``path`` within the size and depth bounds; one line naming ``what`` otherwise."""
    data = read_bytes(path, what, max_bytes)
    return parse_json(data, f"{what} {os.fspath(path)!r}", max_depth)


def parse_json(data: bytes | str, what: str, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` with every failure (syntax, encoding, depth, giant numbers) as one UsageError line."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"{what} is not UTF-8 text (byte {exc.start})") from None
    too_deep = f"{what} nests deeper than {max_depth} levels"
    if nesting(data) > max_depth:
        raise UsageError(too_deep)
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise UsageError(too_deep) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise UsageError(f"{what} is not usable JSON: {exc}") from None


def nesting(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text, strings skipped: no recursion, C-speed scans.

    Run before parsing, so that a deep document costs two regular-expression
    passes and no recursion at all; brackets inside strings do not count.
    """
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def write_atomic(path: str | os.PathLike, data: str | bytes, what: str = "file") -> None:
    """Write ``data`` to ``path`` so that ``path`` is the old content or all of the new, never a part.

    A temporary file in the same directory is written, flushed to disk and
    renamed over ``path``; the directory entry is flushed too.  Any failure
    removes the temporary file and is one ``OutputError`` line.
    """
    name = os.fspath(path)
    blob = data.encode("utf-8") if isinstance(data, str) else data
    folder = os.path.dirname(os.path.abspath(name))
    if os.path.isdir(name):
        raise OutputError(f"cannot write {what} {name!r}: it is a directory")
    if not os.path.isdir(folder):
        raise OutputError(f"cannot write {what} {name!r}: directory {folder!r} does not exist")
    if os.path.exists(name) and not stat.S_ISREG(os.stat(name).st_mode):
        _write_through(name, blob, what)  # /dev/stdout, a pipe: written in place, never replaced
        return
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(name)}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, name)
        tmp = None
        sync_directory(folder)
    except OSError as exc:
        raise OutputError(f"cannot write {what} {name!r}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _write_through(name: str, blob: bytes, what: str) -> None:
    try:
        with open(name, "wb") as fh:
            fh.write(blob)
            fh.flush()
    except OSError as exc:
        raise OutputError(f"cannot write {what} {name!r}: {exc.strerror or exc}") from None


def sync_directory(folder: str) -> None:
    """Flush a directory's entries (a rename is durable only once its directory is)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
