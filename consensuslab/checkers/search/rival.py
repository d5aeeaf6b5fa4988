"""The interpreted search racing the compiled one in a forked process, so that ``auto`` keeps the faster.

Why: which engine is faster on a model is known only by running both.  Run one
after the other, ``auto`` paid for a wrong guess: a compiled attempt that hands
over after a few thousand states, then the interpreted search from the start
(EWD998 with ``max_counter=2``: 5.5 s under ``auto`` against 3.4 s
interpreted; pbft 1.7 s against 0.7 s: README), or the compiled set-up on a search the
interpreted engine ends in a second or two.  So once the interpreted probe
(``engine_choice.PROBE_SECONDS``) has not finished, it goes on in a forked process from
the state it stopped at, and the compiled search runs beside it, on the second
core:

* the first to finish answers, and the other is stopped;
* the compiled search never hands over on its speed estimate: timed while the
  rival shares the machine, the estimate misjudged under load, and the race
  itself tells which is faster;
* a compiled search that cannot go on (a state it cannot pack) waits for its
  rival, which never stopped;
* once the compiled search has found as many states as its rival (the
  probe's head start and the rival's progress made up), the rival is stopped:
  its core and memory go back to the winner.

Both engines answer alike (the same verdict, counts and counterexample), so
which one answered shows only in ``engine``, ``engine_reason`` and the time.
The two together stay within the run's memory cap: before their data reaches
it, the one that has found fewer states ends.  The rival's result comes back over a pipe
between our own two processes; nothing a user hands us is unpickled.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
import time

from consensuslab.checkers.search.ending import MAKE_WAY, RIVAL_FINISHED
from consensuslab.checkers.search.explicit import Search
from consensuslab.checkers.search.limits import (
    STOP_AT, LimitReached, interrupted_since, note_signal, process_memory_limits, statm_of, watchdog,
)
from consensuslab.traces.result import CheckResult

#: seconds a rival gets to send its partial result after an interrupt before it is killed
INTERRUPT_GRACE = 5.0


def can_race() -> bool:
    """Linux (fork, and /proc to watch the rival's memory), and a second core: on one, a race halves both
    searches.  Not in a process of a pool (``check-all``'s scenario jobs, forked workers): its siblings have the
    other cores."""
    if not sys.platform.startswith("linux") or mp.parent_process() is not None:
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return cores >= 2


def _publishing(search: Search, found, loud, parent: int) -> None:
    """``search`` publishes how many states it has found at each of its checks, and prints its progress line
    once the parent waits for it."""
    check = search._limits

    def limits(queue: int) -> bool:
        if os.getppid() != parent:  # the parent was killed outright: nobody waits for this search
            os._exit(0)
        found.value = len(search.via)
        search.budget.progress.enabled = bool(loud.value)
        return check(queue)

    search._limits = limits  # type: ignore[method-assign]


def _race(search: Search, time_limit, found, loud, timed_out, parent, signalled, conn) -> None:
    """The rival's whole life (in the forked process): search, send the result, exit."""
    fired: list[int] = []

    def interrupt_once(signum, frame) -> None:
        """The first SIGINT or SIGTERM stops the search (Ctrl-C reaches the rival too, and the parent passes
        a SIGTERM on); a later one must not cut short the partial result it is building and sending."""
        if not fired:
            fired.append(signum)
            note_signal(signum)
            raise KeyboardInterrupt

    for which in (signal.SIGINT, signal.SIGTERM):
        signal.signal(which, interrupt_once)
    try:
        _publishing(search, found, loud, parent)
        with watchdog(time_limit):  # a timer does not survive fork: the rival arms its own
            result = search.resume(time_limit)
        found.value = result.distinct_states
        timed_out.value = 1 if result.stopped_by == "time-limit" else 0  # the parent reaches it too: it compares
        conn.send(result)
        if signalled and not timed_out.value:
            os.kill(parent, signal.SIGUSR1)  # wherever the parent is, it stops there (``Rival.arm``)
    except BaseException:  # noqa: BLE001 - the parent hears of it as a rival with no result
        pass
    finally:
        conn.close()


class Rival:
    """The interpreted search, running in a forked process beside this one (see the module docstring)."""

    def __init__(self, search: Search, time_limit: float | None, progress: bool = True):
        """``search``: the interpreted probe, stopped by its own time limit (the rival goes on from there, its
        work not repeated), or a search not run yet."""
        ctx = mp.get_context("fork")
        #: the rival signals its end (SIGUSR1) where this process can take a signal: a handler that raises only
        #: while ``armed``, installed before the fork (so that the signal never finds the default, which kills)
        self.signalled = threading.current_thread() is threading.main_thread()
        #: ``fired``: the rival's end was raised here.  Code it lands in may turn it into another error (numpy
        #: comparing structured arrays reports a TypeError): whatever the compiled search then raises is moot
        self.armed = self.fired = False
        self.handler = signal.signal(signal.SIGUSR1, self._finished) if self.signalled else None
        self.found = ctx.RawValue("q", len(search.via))  # states the rival has found so far
        self.loud = ctx.RawValue("b", 0)  # 1: the rival prints its progress line (the parent waits for it)
        #: 1: the rival's result is partial, ended by the run's time limit, which the compiled search reaches too
        #: (it then answers with whichever got further: ``engine_choice``), so the rival's end does not stop it
        self.timed_out = ctx.RawValue("b", 0)
        self.conn, theirs = ctx.Pipe(duplex=False)
        self.cap, _space = process_memory_limits()  # the data cap
        here = statm_of("self")
        self.shared = here[2] if here is not None else 0  # data both processes hold from the fork on
        self.stopped = False
        self.overtaken = False  # stopped because the compiled search had found as many states: its core is free
        self.progress = progress
        self.process = ctx.Process(target=_race, daemon=True, name="consensuslab-rival",
                                   args=(search, time_limit, self.found, self.loud, self.timed_out, os.getpid(),
                                         self.signalled, theirs))
        try:
            self.process.start()
        except BaseException:  # Ctrl-C during the fork: no rival may outlive it unseen
            self.stop()
            raise
        finally:
            theirs.close()

    # -- told when the rival has finished ------------------------------------------------------------------
    def arm(self) -> None:
        """From now on the rival's finishing raises ``LimitReached(RIVAL_FINISHED)`` here, as a watchdog's time
        limit does (the compiled search's set-up reads no budget: without it, a rival that ended in 0.3 s
        waited for the parent's first level).  Main thread only; elsewhere ``keep_up`` polls."""
        if self.signalled:
            self.armed = True
            if self._answered():
                self._finished(signal.SIGUSR1, None)

    def disarm(self) -> None:
        self.armed = False

    def _finished(self, signum, frame) -> None:
        if self.armed:
            self.armed = False
            self.fired = True
            raise LimitReached(RIVAL_FINISHED)

    # -- read from the compiled search's budget ----------------------------------------------------------
    def keep_up(self, states: int) -> str | None:
        """Called with the compiled search's count: ``RIVAL_FINISHED`` when the rival has finished (take its
        result), ``MAKE_WAY`` when the compiled search should end and wait for it, else None.

        Stops the rival once the compiled search has found as many states (it is ahead).  When the two
        processes' data nears the run's cap, the one behind ends: the rival, or the compiled search (whose
        speed estimate is not trusted while racing: this is the race's own evidence)."""
        if self.stopped:
            return None
        if self._answered():
            return RIVAL_FINISHED
        found = self.states_found()  # 0 until the rival's first check: it has not started yet, nothing to compare
        if found and states >= found:
            self.stop()
            self.overtaken = True
        elif self._crowded():
            if found > states:
                return MAKE_WAY
            self.stop()
        return None

    def _answered(self) -> bool:
        """The rival has sent a result that ends the run (not one cut by the time limit the parent shares)."""
        return self.conn.poll() and not self.timed_out.value

    def states_found(self) -> int:
        """States the rival has found so far (0 until its first check)."""
        return self.found.value

    def _crowded(self) -> bool:
        if self.cap is None:
            return False
        ours, theirs = statm_of("self"), statm_of(str(self.process.pid))
        return ours is not None and theirs is not None and \
            ours[2] + max(theirs[2] - self.shared, 0) >= STOP_AT * self.cap

    # -- the rival's answer ---------------------------------------------------------------------------
    def result(self, within: float | None = None) -> CheckResult | None:
        """The rival's result, waiting for it (at most ``within`` seconds) with its progress line on (None: it
        was stopped, died, or did not answer in time)."""
        if self.stopped:
            return None
        self.loud.value = 1 if self.progress else 0
        try:
            return self._receive(within)
        except KeyboardInterrupt:  # Ctrl-C reaches both of us, SIGTERM only this process: pass it on
            try:
                return self._interrupted()
            except Exception:  # noqa: BLE001 - the interrupt tore the message being read
                return None
        finally:
            self.stop()

    def partial(self) -> CheckResult | None:
        """The rival's partial result once this process was interrupted (None: it was stopped, died, did not
        answer, or a second interrupt came)."""
        if self.stopped:
            return None
        try:
            return self._interrupted()
        except (KeyboardInterrupt, Exception):  # noqa: BLE001 - a second Ctrl-C, or a message torn by one
            return None
        finally:
            self.stop()

    def _interrupted(self) -> CheckResult | None:
        """Tell the rival to stop as Ctrl-C tells it (a signal sent to this process alone does not reach it),
        and wait ``INTERRUPT_GRACE`` at most for the partial result it then sends."""
        if self.process.pid is not None and self.process.is_alive():
            os.kill(self.process.pid, signal.SIGINT)
        return self._receive(INTERRUPT_GRACE)

    def _receive(self, timeout: float | None) -> CheckResult | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if deadline is None and interrupted_since():  # an interrupt this process took before it waited
                raise KeyboardInterrupt  # (the compiled search stopped for it): the rival is told below
            wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))
            if self.conn.poll(wait):
                try:
                    return self.conn.recv()
                except EOFError:  # it ended without a result
                    return None
            if not self.process.is_alive() and not self.conn.poll():
                return None
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def stop(self) -> None:
        """End the rival (a no-op once it is ended) and reap it; only then is SIGUSR1's handler put back (a signal
        sent just before the kill must not find the default, which would end this process)."""
        self.disarm()
        if self.stopped:
            return
        self.stopped = True
        if self.process.pid is not None:  # started
            if self.process.is_alive():
                self.process.kill()
            self.process.join(5)
        self.conn.close()
        if self.signalled:
            signal.signal(signal.SIGUSR1, self.handler if self.handler is not None else signal.SIG_DFL)
