"""Taking one expectation from a model state: helper steps, then a final step after which the fields match.

An exact expectation (its actions listed) is taken by applying each listed
action (``model.apply``), never by computing every successor: on a log of
thousands of events that is most of the search's work.  A predicate needs the
state's successors, which the caller passes in when it has them.
"""

from __future__ import annotations

from typing import Any

from consensuslab.checkers.validation.expect import Expect
from consensuslab.checkers.validation.plan import mapping_error
from consensuslab.errors import ConsensuslabError, ReplayError

Path = tuple  # ((action, state), ...) from the state the expectation was taken in


class Taker:
    def __init__(self, model, mapping):
        self.model, self.mapping = model, mapping
        self.limit = max(int(getattr(mapping, "helper_limit", 8)), 0)

    def mismatch(self, expect: Expect, before, action, after) -> tuple[str, Any, Any] | None:
        """The first field whose logged value the model does not show: (name, logged, model), or None."""
        mapping, model = self.mapping, self.model
        for name, logged in expect.fields:
            try:
                got = mapping.observe(model, expect.node, name, before, action, after)
                equal = mapping.same(logged, got)
            except ConsensuslabError:
                raise
            except Exception as exc:
                raise mapping_error(mapping, exc, f"observe({name!r}) for {expect.node}") from None
            if not equal:
                return name, logged, got
        return None

    def steps(self, expect: Expect, state, successors=None) -> list[tuple]:
        """The steps from ``state`` that an expectation may take (final or helper)."""
        if expect.exact:
            out = []
            for action in expect.candidates():
                try:
                    out.append((action, self.model.apply(state, action)))
                except ReplayError:
                    continue
            return out
        if successors is None:
            successors = self.model.successors(state)
        return [(a, t) for a, t in successors if expect.final(a) or expect.helper(a)]

    def take(self, expect: Expect, state, successors=None) -> list[tuple[Path, Any]]:
        """Every way to take ``expect`` from ``state``: (the steps, the state after), distinct end states."""
        if not expect.takes_step:
            return [((), state)] if self.mismatch(expect, state, None, state) is None else []
        out: dict[Any, Path] = {}
        frontier = [((), state, successors)]
        seen = {state}
        for depth in range(self.limit + 1):
            grown = []
            for path, s, succ in frontier:
                for action, t in self.steps(expect, s, succ):
                    step = path + ((action, t),)
                    if expect.final(action) and t not in out and self.mismatch(expect, s, action, t) is None:
                        out[t] = step
                    if depth < self.limit and expect.helper(action) and t not in seen:
                        seen.add(t)
                        grown.append((step, t, None))
            frontier = grown
            if not frontier:
                break
        return [(path, t) for t, path in out.items()]
