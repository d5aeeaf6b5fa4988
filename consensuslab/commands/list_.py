"""``consensuslab list``: protocols, parameters, variants, scenarios, properties."""

from __future__ import annotations

from consensuslab.commands.output import print_json


def register(sub) -> None:
    p = sub.add_parser("list", help="list protocols with their parameters, variants, scenarios, properties")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def describe(name: str) -> dict:
    from consensuslab.models.params import plain
    from consensuslab.models.properties import collect_properties
    from consensuslab.models.spec import Spec
    from consensuslab.protocols import protocol_class

    cls = protocol_class(name)
    instance = cls()
    return {
        "name": name,
        "summary": cls.summary,
        "style": "spec" if issubclass(cls, Spec) else "actors",
        "params": {k: {"default": plain(p.default), "help": p.help, "min": p.min, "max": p.max}
                   for k, p in cls.params.items()},
        "variants": dict(cls.variants),
        "scenarios": [{"name": s.name, "description": s.description, "params": dict(s.params),
                       "variant": s.variant, "expect": s.expect, "expect_property": s.expect_property,
                       "states": s.states} for s in cls.scenarios],
        "properties": [{"name": p.name, "kind": p.kind, "doc": p.doc} for p in collect_properties(instance)],
    }


def run(args) -> int:
    from consensuslab.protocols import available

    entries = [describe(name) for name in available()]
    if args.json:
        print_json({"protocols": entries})
        return 0
    for e in entries:
        print(f"{e['name']}  -  {e['summary']}")
        params = ", ".join(f"{k}={_shown(p['default'])}" for k, p in e["params"].items())
        print(f"    params:     {params or '-'}")
        print(f"    variants:   {', '.join(e['variants']) or '-'}")
        print(f"    scenarios:  {', '.join(s['name'] for s in e['scenarios']) or '-'}")
        print(f"    properties: {', '.join(p['name'] for p in e['properties']) or '-'}")
    return 0


def _shown(value) -> str:
    """A default as ``-p`` takes it: a collection comma-separated."""
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)
