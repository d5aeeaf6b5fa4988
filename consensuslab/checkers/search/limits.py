"""The limits every long computation answers to: time, memory, and the signals that stop a run.

A search reads its ``Budget`` (``ending.py``) every ``CHECK_EVERY`` expansions;
that is cheap, but it trusts the user's code to return.  Three backstops make
a limit hold whatever that code does:

* ``watchdog(seconds)``: once ``seconds`` (plus ``GRACE`` for the cooperative
  check) have passed, ``SIGALRM`` raises ``LimitReached`` in the main thread,
  again every ``REPEAT`` seconds until it lands, so a handler stuck in an
  endless loop (or one that swallows exceptions) still ends the run, which
  reports what it covered as ``incomplete``.
* ``RLIMIT_DATA``: the command line caps the process's data memory at
  ``--memory-limit`` (``apply_memory_limit``), so an allocation past it is a
  ``MemoryError`` the search turns into ``incomplete``, instead of the kernel
  killing the process; the budget stops at ``STOP_AT`` of the cap first.
* the signal record: Ctrl-C (SIGINT) and a CI job's timeout (SIGTERM) raise
  ``KeyboardInterrupt``, and are remembered, so that a run that was
  interrupted never exits 0 even where a library swallowed the exception.
  Signals are process-wide; so is their record.

``LimitReached`` is a ``KeyboardInterrupt`` so that every path that already
returns a partial result on Ctrl-C returns one here too; ``interrupted_by``
names which limit it was.
"""

from __future__ import annotations

import contextlib
import resource
import signal
import threading
import time

#: seconds the cooperative budget check gets past a time limit before the watchdog raises
GRACE = 0.3
#: seconds between two raises of the watchdog when the first was swallowed
REPEAT = 0.25
#: share of the memory cap at which a search stops by itself (the rest: building the result)
STOP_AT = 0.9
#: share of the machine's available memory a run may use when --memory-limit is not given
DEFAULT_SHARE = 0.8
MB = 1024 * 1024


class LimitReached(KeyboardInterrupt):
    """A limit ran out while user code (or a step that does not read its budget) was running."""

    def __init__(self, limit: str = "time-limit"):
        super().__init__(limit)
        self.limit = limit


def interrupted_by(exc: BaseException) -> str:
    """``stopped_by`` for an exception that ended a search early.  A time limit its watchdog raised is handled
    here: the watchdog stands down, where it would raise again every ``REPEAT`` seconds (it repeats for code
    that swallowed it), cutting short the result being built, or whatever ran next under it."""
    if isinstance(exc, LimitReached):
        if exc.limit == "time-limit":
            stand_down()
        return exc.limit
    if isinstance(exc, MemoryError):
        return "memory-limit"
    return "interrupted"


def limit_behind(exc: BaseException) -> str | None:
    """The limit a watchdog reached, when its ``LimitReached`` surfaces wrapped in another exception (ctypes, which
    z3 is called through, turns one raised while it converts a call's arguments into an ``ArgumentError`` that
    keeps only its text); None when ``exc`` is something else."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, LimitReached):
            return seen.limit
        seen = seen.__cause__ or seen.__context__
    marker = f"{LimitReached.__name__}: "
    text = str(exc)
    if type(exc).__name__ == "ArgumentError" and marker in text:
        return text.split(marker, 1)[1].split()[0]
    return None


#: the exceptions after which a search returns what it covered instead of propagating
STOPS = (KeyboardInterrupt, MemoryError)


# -- time -----------------------------------------------------------------------------------

@contextlib.contextmanager
def watchdog(seconds: float | None, grace: float = GRACE):
    """Raise ``LimitReached`` in the main thread once ``seconds + grace`` have passed (see above).

    A no-op without a limit, outside the main thread, or where there is no
    ``setitimer``.  Nested watchdogs keep the earlier deadline.
    """
    if seconds is None or threading.current_thread() is not threading.main_thread() \
            or not hasattr(signal, "setitimer"):
        yield
        return
    delay = max(seconds, 0.0) + grace
    before_handler = signal.getsignal(signal.SIGALRM)
    before_delay, before_interval = signal.getitimer(signal.ITIMER_REAL)
    if before_delay and before_delay <= delay:  # an outer watchdog fires first: it stays in charge
        yield
        return
    armed = [True, time.monotonic() + max(seconds, 0.0)]  # armed, and the time limit it stands behind
    _ARMED.append(armed)

    def fire(signum, frame):
        if armed[0]:
            _FIRED.append(time.monotonic())
            raise LimitReached("time-limit")

    started = time.monotonic()
    signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, delay, REPEAT)
    try:
        yield
    finally:
        armed[0] = False
        _ARMED.remove(armed)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before_handler if before_handler is not None else signal.SIG_DFL)
        if before_delay:
            left = max(before_delay - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, before_interval)


_FIRED: list[float] = []  # when a watchdog raised (the signal, like SIGINT, is process-wide)
_ARMED: list[list] = []  # [armed, time limit's end] of each watchdog in force, innermost last


def stand_down() -> None:
    """A search saw a time limit by itself: the watchdogs of limits now reached hold off, so that building the
    result (which may start with a garbage collection over every stored state, seconds on a big run) is not cut
    short.  A watchdog of a later limit (the whole run's, while a shorter probe ends) stays armed."""
    now = time.monotonic()
    for armed in _ARMED:
        if armed[1] <= now:
            armed[0] = False


def watchdog_fired() -> int:
    """How many times a watchdog raised so far (compare before and after a run)."""
    return len(_FIRED)


@contextlib.contextmanager
def no_watchdog():
    """Hold the watchdog off (a checkpoint being written must not be torn): it fires after, if due."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})


# -- signals --------------------------------------------------------------------------------

_RECEIVED: list[int] = []  # signals are process-wide: so is the record of those that arrived
_SINCE: list[int] = []  # the record's length when each enclosing ``interrupts_recorded`` began


def interrupted_since(count: int | None = None) -> bool:
    """Whether an interrupting signal arrived since ``count`` (default: since the command began).

    A handler's ``KeyboardInterrupt`` can be swallowed: raised while Python runs a
    finaliser (``__del__``, a weakref callback) it is printed and dropped.  The
    record is not, so a budget that reads it stops the run anyway.
    """
    if count is None:
        count = _SINCE[-1] if _SINCE else len(_RECEIVED)
    return len(_RECEIVED) > count


def note_signal(signum: int) -> None:
    """Record that ``signum`` (SIGINT, SIGTERM) arrived: the run was interrupted."""
    _RECEIVED.append(signum)


def signals_received() -> int:
    """How many interrupting signals arrived so far (compare before and after a call)."""
    return len(_RECEIVED)


def first_signal() -> int | None:
    return _RECEIVED[0] if _RECEIVED else None


def interrupt(signum, frame) -> None:
    """The handler of SIGINT and SIGTERM while a command runs: record, then stop as Ctrl-C does."""
    note_signal(signum)
    raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_recorded():
    """SIGINT and SIGTERM raise ``KeyboardInterrupt`` and are recorded (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in before:
        signal.signal(s, interrupt)
    _SINCE.append(len(_RECEIVED))
    try:
        yield
    finally:
        _SINCE.pop()
        for s, handler in before.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)


# -- memory ---------------------------------------------------------------------------------

def statm_of(pid: str) -> tuple[int, int, int] | None:
    """(virtual size, resident set, data) of process ``pid`` (or ``self``) in bytes (None: gone, or no /proc)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            fields = fh.read().split()
    except OSError:
        return None
    page = resource.getpagesize()
    return int(fields[0]) * page, int(fields[1]) * page, int(fields[5]) * page


def _soft(which: int) -> int | None:
    soft, _hard = resource.getrlimit(which)
    return None if soft == resource.RLIM_INFINITY else soft


def process_memory_limits() -> tuple[int | None, int | None]:
    """(data cap, address-space cap) of this process in bytes, None where unlimited."""
    return _soft(resource.RLIMIT_DATA), _soft(resource.RLIMIT_AS)


def available_memory() -> int | None:
    """MemAvailable in bytes (None where /proc/meminfo is missing)."""
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def held_memory() -> int:
    """The data memory this process holds now (the program itself, before a run allocates anything)."""
    held = statm_of("self")
    return held[2] if held else 0


#: the data memory of the program itself, whichever libraries a verb loads: the interpreter, numpy's
#: threads (80 MB reserved), Z3, rich, Hypothesis together measured 130 MB of VmData
PROGRAM = 160 * MB


#: the most ``--memory-limit`` accepts, in megabytes (a petabyte: beyond it a number is a mistake)
MAX_MEGABYTES = 1 << 30


def megabytes_value(text: str | float) -> float:
    """The one reading of a memory limit, in megabytes, for every verb, ``check-all`` and the pytest
    plugin (``--memory-limit MB``, ``--consensuslab-memory-limit MB``); 0 is no limit at all.
    ValueError naming what is valid."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number of megabytes, got {text!r}") from None
    if not (value == 0 or 1 <= value <= MAX_MEGABYTES):
        raise ValueError(f"expected a number of megabytes from 1 to {MAX_MEGABYTES:,} (0: no limit), got {text}")
    return value


def cap_for_megabytes(megabytes: float | None) -> int | None:
    """The data cap (bytes) for a run given ``--memory-limit`` megabytes (None: the default share; 0: none)."""
    if megabytes == 0:
        return None
    return memory_cap(None if megabytes is None else int(megabytes * MB))


def memory_cap(run_limit: int | None) -> int | None:
    """The data cap for a run that may use ``run_limit`` bytes on top of the program itself
    (``PROGRAM``, or what the process holds now if more); without a limit, ``DEFAULT_SHARE`` of
    the memory available."""
    if run_limit is None:
        free = available_memory()
        run_limit = None if free is None else int(free * DEFAULT_SHARE)
    return None if run_limit is None else max(held_memory(), PROGRAM) + run_limit


def apply_memory_limit(limit: int | None) -> tuple[int, int]:
    """Cap this process's data memory at ``limit`` bytes (never above the hard cap); the previous limits.

    Forked workers and helper processes inherit the cap.
    """
    before = resource.getrlimit(resource.RLIMIT_DATA)
    if limit is not None:
        soft, hard = before
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    return before


def restore_memory_limit(before: tuple[int, int]) -> None:
    resource.setrlimit(resource.RLIMIT_DATA, before)


@contextlib.contextmanager
def memory_limit(limit: int | None):
    """``apply_memory_limit`` for the duration of a block (a pytest scenario, a library call)."""
    if limit is None:
        yield
        return
    before = apply_memory_limit(limit)
    try:
        yield
    finally:
        restore_memory_limit(before)


class MemoryCeiling:
    """Whether this process is near its memory cap: the data it holds against ``RLIMIT_DATA`` (or
    ``limit``), its address space against ``RLIMIT_AS``, read from /proc in a few microseconds."""

    def __init__(self, limit: int | None = None):
        data, space = process_memory_limits()
        caps = [c for c in (limit, data) if c is not None]
        self.data = min(caps) if caps else None
        self.space = space

    def reached(self) -> bool:
        if self.data is None and self.space is None:
            return False
        m = statm_of("self")
        if m is None:
            return False
        size, _rss, data = m
        return (self.data is not None and data >= STOP_AT * self.data) or \
            (self.space is not None and size >= STOP_AT * self.space)


def megabytes(n: int | None) -> str:
    return "unlimited" if n is None else f"{n / MB:,.0f} MB"
