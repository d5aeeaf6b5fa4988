"""What every protocol class declares, whichever way it is written.

A protocol class names itself, its parameters, variants and scenarios; an
instance is one configuration of it (parameter values set as attributes),
and ``compile()`` turns it into the ``Model`` every checker consumes.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar

from consensuslab.errors import UsageError
from consensuslab.models.params import Param, resolve_params
from consensuslab.models.scenario import Scenario


class Definition:
    """What every protocol class declares (``Spec`` and ``Protocol`` derive from it).

    Required: ``name``; ``params``, ``variants`` and ``scenarios`` as needed.
    An instance is one configuration: each parameter's value is an attribute
    (``self.rm``), ``self.variant`` the variant (or None), and ``setup()``
    derives constants from them.  The optional hooks below are looked up by
    name; leave them None where they do not apply.
    """

    name: ClassVar[str] = ""
    """The name used on the command line, e.g. ``two-phase``."""
    summary: ClassVar[str] = ""
    """One line for ``consensuslab list``."""
    params: ClassVar[dict[str, Param]] = {}
    """Parameter name -> ``Param`` (default, help, bounds); given with ``-p name=value``."""
    variants: ClassVar[dict[str, str]] = {}
    """Broken (or alternative) variants: name -> what is changed; the code tests ``self.variant == name``."""
    scenarios: ClassVar[tuple[Scenario, ...]] = ()
    """Named configurations with their expected outcomes (``Scenario``); tests and ``check-all`` run them."""
    disabled_properties: tuple[str, ...] = ()
    """Property names switched off in this configuration (scenarios may enable others)."""
    check_deadlock: ClassVar[bool] = True
    """Whether a state without successors (that is not ``done``) is reported as a deadlock (exit 11).
    False: it is the end of a bounded run (TLC's ``CHECK_DEADLOCK FALSE``).  A scenario follows it
    unless it sets ``deadlock`` itself; ``--no-deadlock`` turns it off for one run."""
    mutations: ClassVar[dict[str, str]] = {}
    """Mutants the protocol implements itself, name -> description, for ``consensuslab mutate``: the code
    tests ``self.mutation == name`` (a guard dropped, a bound off by one) and the mutant must be caught."""
    mutation: ClassVar[str | None] = None
    """The mutation being run: set by ``consensuslab mutate`` on a subclass, None otherwise."""
    done: ClassVar[Callable[..., bool] | None] = None
    """``done(self, view) -> bool``: whether a state without successors is finished rather than
    deadlocked (every vote counted, every request answered).  None: every such state is a deadlock,
    unless ``check_deadlock`` is False.  ``view`` is a spec's state, or an actor protocol's ``World``."""
    diff_view: ClassVar[Callable[..., Any] | None] = None
    """``diff_view(self, view) -> hashable``: what ``consensuslab diff`` compares between two variants
    by default (the decisions, say), so that behaviours differing only in bookkeeping count as one."""
    lanes: ClassVar[Callable[..., tuple] | None] = None
    """``lanes(self, action) -> (lane, peers)`` (specs): the node taking ``action`` (a str, or None) and
    a list of the other nodes it involves, for charts; the lint checks the shape.  None: derived from
    ``@action(by=...)`` and the action's arguments."""

    def __init__(self, params: dict[str, Any] | None = None, variant: str | None = None,
                 scenario: Scenario | None = None):
        if variant is not None and variant not in self.variants:
            valid = ", ".join(sorted(self.variants)) or "none"
            raise UsageError(f"unknown variant {variant!r} for {self.name}; valid: {valid}")
        self.variant = variant
        self.scenario = scenario
        self.param_values = resolve_params(self.name, self.params, dict(params or {}))
        for key, value in self.param_values.items():
            setattr(self, key, value)
        self.setup()

    def setup(self) -> None:
        """Derive constants from parameters (node names, quorum sizes); may raise UsageError."""

    @classmethod
    def scenario_named(cls, name: str) -> Scenario:
        for s in cls.scenarios:
            if s.name == name:
                return s
        valid = ", ".join(s.name for s in cls.scenarios) or "none"
        raise UsageError(f"unknown scenario {name!r} for {cls.name}; valid: {valid}")

    @classmethod
    def configure(cls, params: dict[str, Any] | None = None, variant: str | None = None,
                  scenario: str | None = None) -> "Definition":
        """Scenario parameters first, then the caller's; the caller's variant wins."""
        chosen = cls.scenario_named(scenario) if scenario else None
        merged: dict[str, Any] = dict(chosen.params) if chosen else {}
        merged.update(params or {})
        var = variant if variant is not None else (chosen.variant if chosen else None)
        return cls(merged, var, chosen)

    def compile(self):  # -> Model
        raise NotImplementedError

    def model(self):
        """The compiled model (the name reads better at call sites)."""
        return self.compile()


#: the attribute on a protocol class that says where a user's class was loaded from
SOURCE_ATTR = "__consensuslab_source__"


def tag(cls: type, source: str) -> None:
    """Record where ``cls`` came from, on the class itself (not inherited by subclasses)."""
    setattr(cls, SOURCE_ATTR, source)


def source_of(cls: type) -> str | None:
    return vars(cls).get(SOURCE_ATTR)
