"""``--checkpoint DIR``: a time-boxed search saves where it stopped; the next run resumes there.

What is saved is data we can read back without executing anything (the
format, and what it does and does not protect against, are in
``checkpoint_files.py``): fingerprints, parent links (parent gid, successor
position) and the gids of the unexpanded frontier.  No states and no pickle:
frontier states are rebuilt on resume by re-applying the recorded successor
positions from the initial states (shared prefixes computed once).  A
checkpoint is bound to the model (protocol, parameters, variant, scenario,
properties), the SHA-256 of the protocol's source file and the consensuslab
version; on resume a sample of the saved states is re-expanded and each of
its successors must be among the saved fingerprints (``verify_sample``).

Fingerprints here are ``stable_fingerprint`` (a hash of the canonical
encoding), not ``hash()``: the resuming process has another str-hash salt and
another address for ``None``, so ``hash()`` values would not match.  That
costs time per generated state (measured in benchmarks/bench_scale.py); only
checkpointed runs pay it.

Ctrl-C (SIGINT) and SIGTERM (a CI job's timeout) save too.  While a
checkpointed search runs, they only raise a flag; the search looks at it
between slices of ``SLICE`` frontier states, where the seen-set, parent links,
next level and frontier agree, and stops there as a time limit would
(``stopped_by`` is then ``interrupted``).  Raising ``KeyboardInterrupt`` in the
middle of a slice instead could leave a fingerprint stored whose state was
never queued or checked: a resumed run would silently miss it.  A second
signal before saving begins stops at once without saving (the previous
checkpoint in DIR stays as it was); during the save it is ignored, so the
files are never torn by it.  A limit that cuts a step of the user's code
short (the watchdog, memory) saves nothing either, for the same reason.
"""

from __future__ import annotations

import inspect
import random
import signal
import threading
import time

from consensuslab.checkers.scale import checkpoint_files as files
from consensuslab.checkers.scale.partition import Partition, check_local, stable_fingerprint
from consensuslab.checkers.search.limits import no_watchdog, note_signal, watchdog
from consensuslab.checkers.search.progress import Progress
from consensuslab.errors import ConsensuslabError, UsageError

SLICE = 64  # frontier states expanded between looks at Ctrl-C (the clock is read at every state)
#: saved states re-expanded on resume (their successors must all be among the saved fingerprints)
SAMPLE = 64
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupt:
    """Ctrl-C as a flag while a checkpointed search runs (see the module docstring)."""

    def __init__(self):
        self.raised = False
        self.saving = False
        self._installed, self._previous = False, {}

    def _handle(self, signum, frame):
        note_signal(signum)  # the command line exits 128 + signum: an interrupted run never passes
        if self.raised and not self.saving:
            raise KeyboardInterrupt  # the second signal: stop now, do not save
        self.raised = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # handlers live in the main thread only
            self._previous = {s: signal.signal(s, self._handle) for s in SIGNALS}
            self._installed = True
        return self

    def __exit__(self, *exc):
        if self._installed:  # None: the previous handler was not set from Python
            for s, before in self._previous.items():
                signal.signal(s, signal.SIG_DFL if before is None else before)
        return False


class _Slices(Partition):
    """A partition that expands its frontier in slices and stops between them on Ctrl-C or the deadline.

    Between slices every structure is consistent, so the partition can be saved
    there and resumed with nothing lost or counted twice.
    """

    def __init__(self, *args, interrupt: Interrupt | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.interrupt = interrupt

    def expand(self, deadline=None):
        frontier, pos = self.frontier, 0
        try:
            while pos < len(frontier):
                if self.interrupt is not None and self.interrupt.raised:
                    return None, "interrupted"
                if pos and deadline is not None and time.monotonic() >= deadline:
                    return None, "time-limit"
                chunk = frontier[pos:pos + SLICE]
                self.frontier, self.held_back = chunk, len(frontier) - pos - len(chunk)
                finding, stopped = super().expand(deadline)
                pos += len(chunk) - len(self.frontier)
                if finding is not None or stopped:
                    return finding, stopped
            return None, None
        finally:
            self.frontier, self.held_back = frontier[pos:], 0


def _identity(model, reduction: str | None) -> dict:
    """What must match for a checkpoint to belong to this run: the model, the options that change
    the state space, the protocol's source (its file's SHA-256) and this consensuslab's version."""
    return {"meta": model.meta(), "reduction": reduction, "deadlock": model.check_deadlock,
            "properties": sorted(p.name for p in model.properties), "source_sha256": _source_digest(model),
            "tool": files.tool_version()}


def _source_digest(model) -> str | None:
    import hashlib

    try:
        path = inspect.getsourcefile(type(model.definition))
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except (OSError, TypeError):
        return None


def save(directory: str, model, part: Partition, depth: int, reduction: str | None, seconds: float) -> None:
    """Save ``part`` (consistent: between two slices) as the new checkpoint; ``OutputError`` when it cannot."""
    store = part.store
    arrays = {"seen": store.seen, "parents": store.parents, "ks": store.ks,
              "frontier": [g for _, g in part.frontier], "next": [g for _, g in part.next]}
    header = {"identity": _identity(model, reduction), "depth": depth, "generated": part.generated,
              "witnessed": sorted(part.checks.witnessed), "seconds": seconds}
    with no_watchdog():  # a torn save is no save: the time limit waits for it
        files.save(directory, header, arrays)


def load(directory: str, model, canon, reduction: str | None) -> tuple[Partition, int, float] | None:
    """The saved partition, depth and seconds, or None when DIR holds no checkpoint; every saved field
    checked (``checkpoint_files.load``) and a sample of the saved states re-expanded."""
    if not files.exists(directory):
        return None
    doc, arrays = files.load(directory, _identity(model, reduction))
    where = f"checkpoint {directory}"
    known = {p.name for p in model.witnesses}
    if not set(doc["witnessed"]) <= known:
        raise UsageError(f"{where}: records a witness this model does not have")
    part = _Slices(model, canon, stable_fingerprint)
    store = part.store
    store.seen = set(arrays["seen"])
    store.parents = arrays["parents"]
    store.ks = array_l(arrays["ks"])
    part.generated = doc["generated"]
    part.checks.witnessed = set(doc["witnessed"])
    part.checks.pending = [p for p in part.checks.pending if p.name not in part.checks.witnessed]
    states = _Rebuilder(model, store, canon, where)
    part.frontier = [(states(g), g) for g in arrays["frontier"]]
    part.next = [(states(g), g) for g in arrays["next"]]
    verify_sample(model, canon, store, states, arrays, where)
    return part, doc["depth"], doc["seconds"]


def array_l(values):
    from array import array

    return array("l", values)


def verify_sample(model, canon, store, states, arrays, where: str) -> None:
    """Re-expand ``SAMPLE`` saved states chosen at random (seeded by the checkpoint's size, so the same
    checkpoint is checked the same way): each must rebuild to one of the saved fingerprints, and each
    expanded one's successors must all be saved.  An edit that drops or adds states is caught with a
    probability that grows with the share of states it touches (``checkpoint_files`` says what that
    means)."""
    seen = store.seen
    frontier = arrays["frontier"]
    n = len(store)
    expanded = frontier[0] if len(frontier) else (arrays["next"][0] if len(arrays["next"]) else n)
    rng = random.Random(f"consensuslab-checkpoint:{n}:{expanded}")
    picks = sorted({rng.randrange(n) for _ in range(min(SAMPLE, n))})
    for gid in picks:
        state = states(gid)
        if stable_fingerprint(state) not in seen:
            raise UsageError(f"{where}: saved state {gid} does not rebuild to a saved fingerprint (edited)")
        if gid >= expanded:
            continue
        for _act, nxt in model.successors(state):
            if stable_fingerprint(canon(nxt) if canon else nxt) not in seen:
                raise UsageError(f"{where}: a successor of saved state {gid} is missing from the saved "
                                 f"fingerprints: the checkpoint was edited (or another model's); "
                                 f"delete it to start afresh")


class _Rebuilder:
    """Frontier states from parent links: replay successor positions, caching shared ancestors."""

    def __init__(self, model, store, canon, where: str = "checkpoint"):
        self.model, self.store, self.canon, self.where = model, store, canon, where
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
            options = self.roots if parent < 0 else self.model.successors(self.cache[parent])
            if k >= len(options):
                raise UsageError(f"{self.where}: saved state {gid} is step {k} of a state with {len(options)} "
                                 f"(edited, or saved by another model)")
            state = options[k] if parent < 0 else options[k][1]
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
            if finding:  # an initial state is already bad: the plain search reports it
                return check_local(model, canon, reduction=reduction)
        part.interrupt, part.progress = interrupt, Progress(enabled=progress)
        part.progress.start -= before  # states/s and elapsed over all runs, as the states shown are
        saved, failed = [], []

        def on_stop(p, d):
            interrupt.saving = True
            try:
                save(directory, model, p, d, reduction, before + time.monotonic() - started)
                saved.append(d)
            except ConsensuslabError as exc:  # a full disk: the result stands, the previous checkpoint too
                failed.append(str(exc))

        # The deadline is checked by the slices (``_Slices.expand``); check_local passes it on.  The time
        # limit counts from here: loading (rebuilding the frontier) is not searching.
        started = time.monotonic()
        with watchdog(time_limit):
            result = check_local(model, canon, max_states, max_depth, time_limit, reduction=reduction, part=part,
                                 depth=depth, started=started, on_stop=on_stop)
    if result.status != "incomplete" or result.stopped_by == "max-depth":
        files.remove_generations(directory)  # finished: the next run starts afresh
    result.extra.update({"checkpoint": directory, "resumed": loaded is not None, "checkpoint_saved": bool(saved),
                         "seconds_all_runs": round(before + result.seconds, 3), "fingerprint": "stable"})
    if failed:
        result.extra["checkpoint_error"] = failed[0]
    return result


def saved_line(result) -> str | None:
    """The line a command prints on stderr when a checkpointed run stopped: where it saved, and how to
    resume; or why it did not save (None when the run finished)."""
    if result.status != "incomplete" or "checkpoint" not in result.extra or result.extra.get("checkpoint_error"):
        return None
    why = {"interrupted": "interrupted", "time-limit": "time limit reached", "memory-limit": "memory limit reached",
           "max-states": "state limit reached"}.get(result.stopped_by, "stopped")
    if not result.extra.get("checkpoint_saved"):
        return (f"{why} in the middle of a step: checkpoint not updated ({result.extra['checkpoint']} keeps the "
                f"previous one, if any)")
    return (f"{why}: checkpoint saved in {result.extra['checkpoint']} ({result.distinct_states:,} distinct states, "
            f"depth {result.depth}); run the same command again to resume from it")
