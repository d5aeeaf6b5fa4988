"""Protocol parameters: declared with types, defaults and ranges; parsed from ``-p KEY=VALUE``."""

from __future__ import annotations

from typing import Any

import attrs

from consensuslab.errors import UsageError


@attrs.frozen
class Param:
    """One parameter: its default, its bounds, and what it means."""

    default: Any
    help: str = ""
    min: int | None = None
    max: int | None = None
    choices: tuple | None = None

    @property
    def type(self) -> type:
        return type(self.default)

    def parse(self, name: str, text: str) -> Any:
        kind = self.type
        if kind is bool:
            low = text.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise UsageError(f"parameter {name}={text!r}: expected true or false")
        if kind is int:
            try:
                value = int(text)
            except ValueError:
                raise UsageError(f"parameter {name}={text!r}: expected an integer{self._range()}") from None
        elif kind is float:
            try:
                value = float(text)
            except ValueError:
                raise UsageError(f"parameter {name}={text!r}: expected a number{self._range()}") from None
        else:
            value = text
        return self.validate(name, value)

    def validate(self, name: str, value: Any) -> Any:
        if self.type in (int, float) and isinstance(value, bool):
            raise UsageError(f"parameter {name}={value!r}: expected a number{self._range()}")
        if self.type is int and not isinstance(value, int):
            raise UsageError(f"parameter {name}={value!r}: expected an integer{self._range()}")
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise UsageError(f"parameter {name}={value}: out of range{self._range()}")
        if self.choices is not None and value not in self.choices:
            raise UsageError(f"parameter {name}={value!r}: valid values are {', '.join(map(str, self.choices))}")
        return value

    def _range(self) -> str:
        if self.min is not None and self.max is not None:
            return f" from {self.min} to {self.max}"
        if self.min is not None:
            return f" of at least {self.min}"
        if self.max is not None:
            return f" of at most {self.max}"
        return ""


def parse_assignments(pairs: list[str] | None) -> dict[str, str]:
    """``["rm=3", "f=1"]`` -> ``{"rm": "3", "f": "1"}``, one-line errors for malformed pairs."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"parameter {pair!r}: expected KEY=VALUE, e.g. -p rm=3")
        out[key.strip()] = value.strip()
    return out


def resolve_params(protocol: str, declared: dict[str, Param], given: dict[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with ``given`` (text or values), every value checked."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        valid = ", ".join(sorted(declared)) or "none"
        raise UsageError(f"unknown parameter {unknown[0]!r} for {protocol}; valid: {valid}")
    values = {}
    for name, param in declared.items():
        if name in given:
            raw = given[name]
            values[name] = param.parse(name, raw) if isinstance(raw, str) and param.type is not str else param.validate(name, raw)
        else:
            values[name] = param.default
    return values
