"""The breadth-first search of an actor model over packed states (``layout``), stepping by memo (``units``).

The same search as ``checkers/search/explicit.py`` in every respect a user can
see: states are expanded in the same order, each one's successors come in the
order ``ActorModel.successors`` gives them, so the distinct and generated
counts, the depth, the verdicts and the counterexample (rebuilt by re-applying
the recorded actions on real states, hence replayable) are the same.  It is
checked, not trusted: the successors of the first ``CROSS_CHECKED`` states, of
``AUDITED_PER_LEVEL`` states of each level and of one state in ``AUDIT_EVERY``
are compared with ``model.successors`` on the decoded state, with the
properties' memoised verdicts on them; any difference raises ``HandOver`` and
the run goes to the interpreted search.
"""

from __future__ import annotations

import gc
import time
from array import array

from consensuslab.checkers.actors.audit import HandOver
from consensuslab.checkers.actors.bfs import breadth_first
from consensuslab.checkers.actors.effects import Effects
from consensuslab.checkers.actors.groups import build_groups
from consensuslab.checkers.actors.layout import Layout, Tables, Widen
from consensuslab.checkers.actors.properties import StateProperty, StepProperty, roles_of
from consensuslab.checkers.actors.units import Deliver, Drop, Duplicate, Timer, static_units
from consensuslab.checkers.search.collector import resume_collection
from consensuslab.checkers.search.ending import Budget, Stop, finish
from consensuslab.checkers.search.progress import Progress
from consensuslab.traces.result import CheckResult, Violation, rebuild_trace

class ActorSearch:
    def __init__(self, model, max_states: int | None = None, max_depth: int | None = None,
                 time_limit: float | None = None, progress: bool = True):
        self.model = model
        self.max_states, self.max_depth, self.time_limit = max_states, max_depth, time_limit
        self.show_progress = progress
        self.declined: str | None = None
        self.roles = roles_of(model)
        self.handlers = {key: name for key, (name, _) in model.handlers.items()}
        self.tables = Tables(model)
        self.layout = Layout(model, self.tables)
        self.effects = Effects(model, self.layout)
        self.version = 0  # bumped whenever a unit, a mask or the layout changes
        self.regrouped = False
        self.widenings = 0
        self.audited = 0
        self.units = sorted(static_units(self), key=lambda u: u.order)
        self.deliver_units = {(u.i, u.name): u for u in self.units if isinstance(u, Deliver)}
        self.env_units: list[list] = [[] for _ in model.nodes]  # per node: units that take its envelopes
        for u in self.units:
            if isinstance(u, (Drop, Duplicate)):
                self.env_units[u.i].append(u)
        self.timer_units: dict = {}
        self.tables.discovered.append(self._new_envelope)
        self.tables.new_timer.append(self._new_timer)
        self.invariants = [StateProperty(self, p) for p in model.invariants]
        self.witness_props = [StateProperty(self, p) for p in model.witnesses]
        self.step_props = [StepProperty(self, p) for p in model.step_properties]
        self._refresh()

    # -- units as the search learns the model -------------------------------------------
    def handler_of(self, i: int, msg) -> str | None:
        return self.handlers.get((self.model.role_of[self.model.nodes[i]], type(msg)))

    def _new_envelope(self, e: int) -> None:
        """A new envelope (soup, counts): the units of its destination take it into their keys."""
        if self.layout.kind == "fifo":
            return
        src, dst, msg = self.tables.envs[e]
        i = self.model.index[dst]
        if dst not in self.model.byzantine:
            name = self.handler_of(i, msg)
            unit = self.deliver_units.get((i, name))
            if unit is None:  # no handler: a unit whose step raises the model's error
                unit = self.deliver_units[(i, name)] = Deliver(self, i, name)
                unit.refresh()
                self._insert(unit)
            unit.add_env(e)
        for unit in self.env_units[i]:
            unit.add_env(e)
        if self.layout.kind == "counts":
            # Its count's guard bit: a step that fills the count widens the counts.  Without it a count numbered
            # after the guard was made carried into the next envelope's (15 copies and one more: 0, and one copy of
            # another message), and the states found on were wrong.
            self.guard |= (1 << (self.layout.count_width - 1)) << self.layout.env_shift(e)
        self.version += 1

    def _new_timer(self, i: int, timer: str) -> None:
        node = self.model.nodes[i]
        if node in self.model.byzantine or (i, timer) in self.timer_units:
            return
        entry = self.model.timer_handlers.get((self.model.role_of[node], timer))
        unit = self.timer_units[(i, timer)] = Timer(self, i, timer, entry[0] if entry else None)
        unit.refresh()
        self._insert(unit)

    def _insert(self, unit) -> None:
        """A unit found during the search: ranks change, so the groups start afresh (their units' memos stay)."""
        self.units.append(unit)
        self.units.sort(key=lambda u: u.order)
        self.groups = build_groups(self.units)
        self.version += 1
        self.regrouped = True  # the state being expanded mixes old and new ranks: it is expanded again

    def _refresh(self) -> None:
        for unit in self.units:
            unit.refresh()
        self.groups = build_groups(self.units)
        for prop in self.invariants + self.witness_props + self.step_props:
            prop.refresh()
        self._step_masks()
        self.guard = self.layout.guard()
        self.version += 1

    def rows(self) -> list:
        """``(mask, memo, step mask, step verdicts)`` of every group: what the hot loop walks."""
        extra = self.step_mask
        return [(g.mask, g.memo, g.mask | extra, g.steps_ok) for g in self.groups]

    def ordered(self, s: int, found: list) -> list:
        """``(action, packed successor)`` of every step in ``found`` (group entries), in the model's order."""
        counts = self.layout.kind == "counts"
        items = sorted((item for entry in found for item in entry[1]), key=lambda item: item[0])
        if counts:
            return [(act, (s ^ x) + y) for _, _, steps in items for act, x, y in steps]
        return [(act, (s ^ x) | y) for _, _, steps in items for act, x, y in steps]

    # -- transition properties: per unit where the verdicts follow from the unit's key ---------------
    def step_checks(self) -> tuple[bool, bool]:
        """``(per unit, one by one)``: how the hot loop checks transition properties now."""
        if not self.step_props:
            return False, False
        return self.step_per_unit, not self.step_per_unit

    def _step_masks(self) -> None:
        """The fields the transition properties read, and whether a unit's key and them decide the verdicts.

        They do when what the properties read after the step is outside the network (whose
        changes depend on more than the unit's key: a send may find its envelope already
        there), or the network is FIFO (every change is in the step's ``x``).
        """
        mask, per_unit = 0, True
        for prop in self.step_props:
            mask |= prop.mask_before | prop.mask_after
            after = prop.mask_after
            if self.layout.kind != "fifo" and (after < 0 or after >> self.layout.net_at):
                per_unit = False
        if (mask, per_unit) != (getattr(self, "step_mask", None), getattr(self, "step_per_unit", None)):
            self.step_mask, self.step_per_unit = mask, per_unit
            self.version += 1

    def group_steps_ok(self, group_mask: int, verdicts: dict, s: int, entry: tuple) -> bool:
        """Whether every step of a group's ``entry`` from ``s`` satisfies every transition property (stored
        under the group's key and the fields the properties read)."""
        counts = self.layout.kind == "counts"
        ok = True
        try:
            for _, _, steps in entry[1]:
                for act, x, y in steps:
                    t = (s ^ x) + y if counts else (s ^ x) | y
                    for prop in self.step_props:
                        if not prop.holds(s, act, t):
                            ok = False
        except Exception:
            ok = False  # the one-by-one check names the property that raised
        self._step_masks()
        verdicts[s & (group_mask | self.step_mask)] = ok
        return ok

    def widen(self, why: Widen, lists: list) -> None:
        """Re-pack everything held with the field ``why`` names wider; ``lists`` are converted in place."""
        old, new = self.layout, self.layout.wider(why.what, why.node)
        self.layout = self.effects.layout = new
        convert = new.converter(old)
        self.seen = {convert(s) for s in self.seen}
        for states in lists:
            states[:] = [convert(s) for s in states]
        self.widenings += 1
        self._refresh()
        if self.layout.kind == "counts":  # the guard of new counts follows their envelopes
            self.guard = self.layout.guard()

    # -- violations, as the interpreted search reports them ------------------------------------
    def trace_to(self, idx: int):
        return rebuild_trace(self.model, self.roots, self.parents, self.via, idx)

    def invariant_failed(self, t: int, idx: int):
        broken = self.model.first_broken_invariant(self.layout.decode(t))
        if broken is None:
            raise HandOver("a memoised invariant verdict differs from the invariant's")
        raise Stop(Violation(broken.name, "invariant", self.trace_to(idx)))

    def property_raised(self, t: int):
        """A property raised on the reading world: the model's own evaluation names it (ModelError)."""
        real = self.layout.decode(t)
        self.model.first_broken_invariant(real)
        for prop in self.pending:
            self.model.holds(prop.prop, real)
        raise HandOver("a property raised on the packed state and not on the real one")

    def witness(self, t: int) -> None:
        real, found = self.layout.decode(t), False
        for prop in list(self.pending):
            if self.model.holds(prop.prop, real):
                self.pending.remove(prop)
                self.witnessed.add(prop.prop.name)
                found = True
        if not found:
            raise HandOver("a memoised witness verdict differs from the property's")

    def step_failed(self, s: int, idx: int, act, t: int):
        trace = self.trace_to(idx)
        before = trace.states[-1]
        after = self.model.apply(before, act)
        broken = self.model.first_broken_step(before, act, after)
        if broken is None:
            raise HandOver("a memoised transition verdict differs from the property's")
        trace.steps.append((act, after))
        raise Stop(Violation(broken.name, "transition", trace))

    def step_raised(self, s: int, out: list):
        real = self.layout.decode(s)
        for act, t in out:
            self.model.first_broken_step(real, act, self.layout.decode(t))
        raise HandOver("a transition property raised on the packed state and not on the real one")

    def deadlocked(self, s: int, idx: int) -> None:
        if not self.model.is_done(self.layout.decode(s)):
            raise Stop(Violation("deadlock", "deadlock", self.trace_to(idx), message="no action is enabled"))

    # -- the run --------------------------------------------------------------------------------
    def run(self) -> CheckResult | None:
        """The result, or None with ``self.declined`` when the run must go to the interpreted search."""
        self.budget = Budget(self.time_limit, Progress(enabled=self.show_progress))
        self.seen: set[int] = set()
        self.parents = array("q")
        self.via: list = []
        self.roots: dict = {}
        self.generated = self.depth = self.count = 0
        self.stopped_by = None
        self.pending = list(self.witness_props)
        self.witnessed: set[str] = set()
        violation = None
        collecting = gc.isenabled()
        gc.disable()
        try:
            breadth_first(self)
        except Stop as stop:
            violation = stop.violation
        except HandOver as exc:
            self.declined = str(exc)
            return None
        except KeyboardInterrupt:
            self.stopped_by = "interrupted"
        finally:
            if collecting:
                resume_collection()  # without walking every state the search made (``collector.py``)
            self.budget.progress.close()
        return self.result(violation)

    def result(self, violation) -> CheckResult:
        layout = self.layout
        bits = layout.net_at + len(self.tables.envs) * layout.env_width if layout.kind != "fifo" else \
            layout.net_at + layout.n * layout.n * layout.queue_width
        extra = {"engine": "compiled", "workers": 1, "symmetry": False, "reduction": None,
                 "compiled": {"model": "actors", "network": layout.kind, "state_bits": bits,
                              "units": len(self.units), "handler_calls": self.effects.calls,
                              "memo_entries": sum(len(u.memo) for u in self.units),
                              "widenings": self.widenings, "audited_states": self.audited}}
        return finish(self.model, violation=violation, stopped_by=self.stopped_by, witnessed=self.witnessed,
                      distinct=len(self.via), generated=self.generated, depth=self.depth,
                      seconds=time.monotonic() - self.budget.started, search="bfs", fingerprints=False,
                      extra=extra)
