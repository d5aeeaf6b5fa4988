"""Keep freed memory in the process: glibc's malloc tuned for a search that frees and reallocates big arrays.

Why: the level search allocates and frees arrays of megabytes every level.
By default glibc maps each allocation above its (moving) threshold afresh and
hands freed memory at the top of the heap back to the system, so the next
allocation faults its pages in again, and on a virtual machine a page fault
costs microseconds: two-phase rm=9 with two workers took 1.78 s tuned
against 2.01 s untuned (median of five interleaved runs; one worker was
unchanged).
Allocations up to 32 MB (glibc's own ceiling for its moving threshold) then
come from the heap and are reused, and up to 1 GB of free heap is kept.

The command-line tool calls ``keep_freed_memory`` once; a program using the
library may call it too.  It changes nothing where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 1 << 30


def keep_freed_memory() -> bool:
    """Tune glibc's malloc as above; False (and nothing changed) where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library already loaded (finding it by name runs ldconfig)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
