"""What one logged event asks of the model: the step that takes it, and what the node shows after.

A mapping turns each event into zero or more ``Expect``: ``steps`` are the model
actions that may take the event (a set of exact actions, or a predicate; None:
the event takes no step and only its ``fields`` are checked on the current
state), ``helpers`` are actions the node may take first while taking it (a
handler that the model splits into several steps), and ``fields`` are
``(name, value)`` pairs the mapping's ``observe`` must give after the step.
"""

from __future__ import annotations

from typing import Any, Callable

import attrs

from consensuslab.models.action import Action


@attrs.frozen(eq=False)
class Expect:
    node: str
    event: tuple[str, int]
    steps: frozenset | Callable[[Action], bool] | None = None
    helpers: frozenset | Callable[[Action], bool] = frozenset()
    fields: tuple[tuple[str, Any], ...] = ()
    label: str = ""

    @property
    def takes_step(self) -> bool:
        return self.steps is not None

    @property
    def exact(self) -> bool:
        """Whether every action it accepts is listed (so the search can apply them one by one)."""
        return isinstance(self.steps, frozenset) and isinstance(self.helpers, frozenset)

    def final(self, action: Action) -> bool:
        steps = self.steps
        if steps is None:
            return False
        return action in steps if isinstance(steps, frozenset) else bool(steps(action))

    def helper(self, action: Action) -> bool:
        helpers = self.helpers
        return action in helpers if isinstance(helpers, frozenset) else bool(helpers(action))

    def candidates(self) -> list[Action]:
        """The listed actions, helpers first then final steps (exact expectations only)."""
        assert self.exact
        return sorted(set(self.helpers) | set(self.steps), key=lambda a: a.key)

    def describe(self) -> str:
        if self.label:
            return self.label
        if self.steps is None:
            return "no step"
        if isinstance(self.steps, frozenset):
            return " or ".join(sorted(str(a) for a in self.steps)) or "no action"
        return getattr(self.steps, "__doc__", None) or "a step the mapping accepts"
