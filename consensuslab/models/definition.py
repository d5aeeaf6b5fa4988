"""What every protocol class declares, whichever way it is written.

A protocol class names itself, its parameters, variants and scenarios; an
instance is one configuration of it (parameter values set as attributes),
and ``compile()`` turns it into the ``Model`` every checker consumes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from consensuslab.errors import UsageError
from consensuslab.models.params import Param, resolve_params
from consensuslab.models.scenario import Scenario


class Definition:
    #: the name used on the command line, e.g. ``two-phase``
    name: ClassVar[str] = ""
    #: one line for ``consensuslab list``
    summary: ClassVar[str] = ""
    params: ClassVar[dict[str, Param]] = {}
    #: broken (or alternative) variants: name -> what is changed
    variants: ClassVar[dict[str, str]] = {}
    scenarios: ClassVar[tuple[Scenario, ...]] = ()
    #: property names switched off in this configuration (scenarios may enable others)
    disabled_properties: tuple[str, ...] = ()

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


#: the attributes on a protocol class that say where a user's class was loaded from, and the file's hash
SOURCE_ATTR = "__consensuslab_source__"
DIGEST_ATTR = "__consensuslab_source_sha256__"


def tag(cls: type, source: str, digest: str | None = None) -> None:
    """Record where ``cls`` came from (and the SHA-256 of its file), on the class itself (not inherited)."""
    setattr(cls, SOURCE_ATTR, source)
    setattr(cls, DIGEST_ATTR, digest)


def source_of(cls: type) -> str | None:
    return vars(cls).get(SOURCE_ATTR)


def digest_of(cls: type) -> str | None:
    return vars(cls).get(DIGEST_ATTR)
