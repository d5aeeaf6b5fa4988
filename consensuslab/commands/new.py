"""``consensuslab new NAME [--spec | --from PROTOCOL]``: start a protocol of one's own, ready to check.

Writes ``NAME.py`` (a small actor protocol, or with ``--spec`` a TLA+-style
spec, each with scenarios and a broken variant; or a subclass of a library
protocol that inherits its scenarios) and ``test_NAME.py`` (its scenarios as
pytest tests).  Never overwrites a file: a user's half-written protocol is
worth more than a template.
"""

from __future__ import annotations

import keyword
import os
import re
from string import Template

from consensuslab.errors import UsageError

#: distinct states of the templates' default scenarios (pinned; tests/commands/test_new.py checks them)
TEMPLATE_STATES = 180
SPEC_TEMPLATE_STATES = 28


def register(sub) -> None:
    p = sub.add_parser("new", help="write NAME.py (a protocol) and test_NAME.py to start from",
                       description="Write NAME.py, a protocol module with scenarios and a broken variant: an "
                                   "actor protocol (default), a TLA+-style spec (--spec), or a subclass of a "
                                   "library protocol (--from); and test_NAME.py. Refuses to overwrite existing "
                                   "files (exit 2).")
    p.add_argument("name", metavar="NAME", help="a Python identifier, e.g. my_election")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--spec", action="store_true",
                      help="a TLA+-style spec (global state, actions) instead of an actor protocol")
    kind.add_argument("--from", dest="base", metavar="PROTOCOL",
                      help="subclass this library protocol (see `consensuslab list`) instead of the template")
    p.add_argument("--dir", default=".", metavar="DIR", help="where to write (default: the current directory)")
    p.set_defaults(handler=run)


def class_name(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "Protocol"


def render(name: str, base: str | None = None, spec: bool = False) -> dict[str, str]:
    """File name -> text of the two files ``new`` writes."""
    from consensuslab.templates import ACTOR_HINT, ACTOR_PROTOCOL, SPEC_HINT, SUBCLASS_PROTOCOL, TEST_MODULE
    from consensuslab.templates.spec import SPEC_PROTOCOL

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or keyword.iskeyword(name):
        raise UsageError(f"NAME {name!r} must be a Python identifier (letters, digits, _), e.g. my_protocol")
    values = {"module": name, "file": f"{name}.py", "name": name.replace("_", "-"), "cls": class_name(name),
              "states": str(TEMPLATE_STATES)}
    if spec:
        protocol = Template(SPEC_PROTOCOL).substitute(values, states=str(SPEC_TEMPLATE_STATES))
    elif base is None:
        protocol = Template(ACTOR_PROTOCOL).substitute(values)
    else:
        from consensuslab.models.spec import Spec
        from consensuslab.protocols import REGISTRY, protocol_class

        parent = protocol_class(base)  # a one-line error for unknown names
        module, _, cls = REGISTRY[base].partition(":")
        if cls == values["cls"]:
            values["cls"] += "Variant"
        hint = SPEC_HINT if issubclass(parent, Spec) else ACTOR_HINT
        protocol = Template(SUBCLASS_PROTOCOL).substitute(values, base=base, base_module=module, base_cls=cls,
                                                          hint=hint)
    return {f"{name}.py": protocol, f"test_{name}.py": Template(TEST_MODULE).substitute(values)}


def run(args) -> int:
    files = render(args.name, args.base, args.spec)
    if not os.path.isdir(args.dir):
        raise UsageError(f"--dir {args.dir!r} is not a directory")
    paths = {os.path.join(args.dir, f): text for f, text in files.items()}
    existing = [p for p in paths if os.path.exists(p)]
    if existing:
        raise UsageError(f"{existing[0]} already exists; not overwriting (choose another NAME or --dir)")
    for path, text in paths.items():
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(text)
    protocol, test = paths
    print(f"wrote {protocol} and {test}")
    print(f"  consensuslab check {protocol}")
    print(f"  pytest {test}")
    return 0
