"""mkdocs hook: one page per bundled protocol and the command-line reference, generated from the code.

Each page is built at build time from what ``consensuslab list --json`` reports (summary,
parameters, variants, scenarios with their expectations, properties with their docstrings) and
the protocol module's own docstring, so a page cannot drift from the code: a protocol added to
the registry gets its page, a parameter renamed is renamed on it.

The hook also keeps in the navigation the how-to pages that other branches contribute only once
their file exists, so the strict build passes before and after they land.
"""

from __future__ import annotations

import inspect
import os
import sys

from mkdocs.structure.files import File

#: nav entries whose page may not exist yet (written on other branches)
OPTIONAL_PAGES = ("how-to/real-code.md", "how-to/limits-and-trust.md")
SECTION = "Protocols"


def _protocols() -> list[dict]:
    from consensuslab.commands.list_ import describe
    from consensuslab.protocols import available

    return [describe(name) for name in available()]


def on_config(config):
    docs_dir = config["docs_dir"]

    def keep(entry) -> bool:
        target = next(iter(entry.values())) if isinstance(entry, dict) else entry
        return not (isinstance(target, str) and target in OPTIONAL_PAGES
                    and not os.path.exists(os.path.join(docs_dir, target)))

    def prune(items):
        out = []
        for entry in items:
            if isinstance(entry, dict):
                (title, target), = entry.items()
                if isinstance(target, list):
                    entry = {title: prune(target)}
            if keep(entry):
                out.append(entry)
        return out

    nav = prune(config["nav"])
    pages = ["protocols/index.md"] + [{p["name"]: f"protocols/{p['name']}.md"} for p in _protocols()]
    config["nav"] = [{SECTION: pages} if isinstance(e, dict) and SECTION in e else e for e in nav]
    return config


def on_files(files, config):
    protocols = _protocols()
    files.append(File.generated(config, "protocols/index.md", content=index_page(protocols)))
    for p in protocols:
        files.append(File.generated(config, f"protocols/{p['name']}.md", content=protocol_page(p)))
    files.append(File.generated(config, "reference/cli.md", content=cli_page()))
    return files


def cli_page() -> str:
    """Every verb's ``--help``, from the parser the command line itself uses."""
    import argparse

    from consensuslab.cli import build_parser

    os.environ["COLUMNS"] = "100"  # argparse wraps help to the terminal's width: fix it
    parser = build_parser()
    out = ["# Command line", "",
           "Every command and option, as `consensuslab COMMAND --help` prints them (generated from the "
           "command line's own parser). Exit codes follow TLC's: 0 every property holds, 11 deadlock, "
           "12 safety violation, 13 liveness violation, 3 incomplete (a limit was hit), 2 bad input, "
           "1 a trace that does not replay or an unmet `check-all` expectation.", ""]
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for verb, sub in subs.choices.items():
        out += [f"## {verb}", "", "<pre><code>" + _html(sub.format_help()) + "</code></pre>", ""]
    return "\n".join(out) + "\n"


def _html(text: str) -> str:
    import html

    return html.escape(text.rstrip())


def index_page(protocols: list[dict]) -> str:
    lines = ["# Bundled protocols", "",
             "Every protocol below ships with consensuslab: `consensuslab list` prints the same facts, "
             "`consensuslab check NAME` checks one, `consensuslab check-all` runs every scenario against "
             "its expected outcome. Each page is generated from the protocol's own code.", "",
             "| protocol | style | what it is |", "| --- | --- | --- |"]
    lines += [f"| [{p['name']}]({p['name']}.md) | {p['style']} | {p['summary']} |" for p in protocols]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return text.replace("|", "\\|").replace("\n", " ").replace("[", "\\[").replace("]", "\\]")


def _module_doc(name: str) -> str:
    from consensuslab.protocols import protocol_class

    module = sys.modules[protocol_class(name).__module__]
    return inspect.cleandoc(module.__doc__ or "")


def protocol_page(p: dict) -> str:
    name = p["name"]
    out = [f"# {name}", "", f"*{p['summary']}* ({'a TLA+-style spec' if p['style'] == 'spec' else 'an actor protocol'})",
           "", f"Check it with `consensuslab check {name}`; `consensuslab list` prints these facts too.", "",
           _module_doc(name), "", "## Parameters", ""]
    if p["params"]:
        out += ["| name | default | meaning |", "| --- | --- | --- |"]
        out += [f"| `{k}` | `{_cell(v['default'])}` | {_cell(v['help'])} |" for k, v in p["params"].items()]
    else:
        out.append("None.")
    out += ["", "## Variants", ""]
    if p["variants"]:
        out += [f"- `{k}`: {_cell(v)}" for k, v in p["variants"].items()]
    else:
        out.append("None: the protocol as published.")
    out += ["", "## Scenarios", "", "`consensuslab check " + name + " --scenario NAME` runs one; "
            "`check-all` runs them all and compares each with its expectation.", "",
            "| scenario | what it shows | parameters | variant | kind | expected | states |",
            "| --- | --- | --- | --- | --- | --- | ---: |"]
    for s in p["scenarios"]:
        expect = s["expect"] + (f" of `{s['expect_property']}`" if s["expect_property"] else "")
        params = ", ".join(f"{k}={_cell(v)}" for k, v in s["params"].items()) or "defaults"
        states = f"{s['states']:,}" if s["states"] is not None else ""
        out.append(f"| `{s['name']}` | {_cell(s['description'])} | {params} | {s['variant'] or ''} | "
                   f"{s['kind']} | {expect} | {states} |")
    out += ["", "## Properties", "", "| property | kind | meaning |", "| --- | --- | --- |"]
    out += [f"| `{q['name']}` | {q['kind']} | {_cell(q['doc'] or '')} |" for q in p["properties"]]
    return "\n".join(out) + "\n"
