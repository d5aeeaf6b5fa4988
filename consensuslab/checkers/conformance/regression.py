"""The pytest regression test a divergence becomes: the model's steps, replayed on the implementation.

The test names the implementation (a path relative to the test file, or a
module) and the model, lists the steps as the model's actions in ITF's
encoding (replayed by value, as ``replay`` does), and fails with the
divergence while the implementation still has it; once fixed, it passes.
"""

from __future__ import annotations

import json
import os
import re

from consensuslab.checkers.conformance.result import Divergence
from consensuslab.traces.itf import encode_action

TEMPLATE = '''"""Regression test written by `consensuslab conform`: {title}.

{message}
"""

import json
import os

from consensuslab.testing import assert_conforms_along

HERE = os.path.dirname(os.path.abspath(__file__))
IMPLEMENTATION = {impl}
PROTOCOL = {protocol!r}
PARAMS = json.loads({params!r})
VARIANT = {variant!r}
SCENARIO = {scenario!r}
STEPS = json.loads(r"""
{steps}
""")


def test_{name}_conforms_along_the_divergent_behaviour():
    assert_conforms_along(IMPLEMENTATION, STEPS, protocol=PROTOCOL, params=PARAMS, variant=VARIANT,
                          scenario=SCENARIO)
'''


def regression_test(divergence: Divergence, implementation: str, model_meta: dict, test_path: str) -> str:
    """The text of a pytest file at ``test_path`` that reproduces ``divergence``."""
    steps = [encode_action(a) for a in divergence.trace.actions]
    name = re.sub(r"\W+", "_", os.path.splitext(os.path.basename(implementation.split(":")[0]))[0]).strip("_")
    protocol = model_meta.get("protocol_source") or model_meta["protocol"]
    if protocol.endswith(".py") or ".py:" in protocol:
        protocol = _relative(protocol, test_path)
    return TEMPLATE.format(
        title=f"{implementation} diverges from {model_meta['protocol']} after {len(steps)} steps",
        message=divergence.message.replace('"""', "'''"), impl=_target(implementation, test_path),
        protocol=protocol, params=json.dumps(model_meta.get("params") or {}, sort_keys=True, default=str),
        variant=model_meta.get("variant"), scenario=model_meta.get("scenario"),
        steps=json.dumps(steps, indent=1).replace('"""', '\\"\\"\\"'), name=name or "implementation")


def _target(implementation: str, test_path: str) -> str:
    """A path target as an expression relative to the test's folder; a module target as it is."""
    path, sep, cls = implementation.partition(".py:") if ".py:" in implementation else (implementation, "", "")
    if implementation.endswith(".py") or sep:
        file = path + ".py" if sep else path
        rel = os.path.relpath(os.path.abspath(file), os.path.dirname(os.path.abspath(test_path)))
        tail = f' + ":{cls}"' if sep else ""
        return f"os.path.join(HERE, {rel!r}){tail}"
    return repr(implementation)


def _relative(target: str, test_path: str) -> str:
    """A protocol file target made absolute (the test resolves it where it runs, from the test's folder)."""
    path, sep, cls = target.partition(".py:")
    file = path + ".py" if sep else target
    return os.path.abspath(file) + (f":{cls}" if sep else "")
