"""``consensuslab check-all``: expectations met or not, JUnit XML, time-boxed runs as incomplete."""

import json
import textwrap
import xml.etree.ElementTree as ET

import pytest

from consensuslab.cli import main

SMALL = ["--protocol", "two-phase", "--protocol", "hash-chain"]

WRONG = '''
from typing import NamedTuple
from consensuslab import Scenario, Spec, action, always

class S(NamedTuple):
    n: int

class Wrong(Spec):
    name = "wrong"
    variants = {"overflow": "counts to 3"}
    scenarios = (Scenario("default", states=3),
                 Scenario("claims-ok", "the broken variant, wrongly expected to pass", variant="overflow"),
                 Scenario("wrong-count", "pins the wrong state count", states=7))

    def init(self):
        yield S(0)

    @action
    def Inc(self, s):
        if s.n < 2 + (self.variant == "overflow"):
            return S(s.n + 1)

    @always
    def small(self, s):
        return s.n <= 2

    def done(self, s):
        return True
'''


@pytest.fixture(autouse=True)
def _own_folder(tmp_path, monkeypatch):
    """Each test in a folder of its own: the default cache (.consensuslab-cache) starts empty."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_library_scenarios_meet_their_expectations(tmp_path, capsys):
    junit = tmp_path / "report.xml"
    code, out, _ = cli(capsys, "check-all", *SMALL, "--junit", junit, "--traces", tmp_path / "traces")
    assert code == 0, out
    assert "5 scenarios: 5 passed, 0 failed, 0 incomplete" in out
    assert "violation of TCConsistent found as expected" in out
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "5" and root.get("failures") == "0"
    cases = {(c.get("classname"), c.get("name")) for c in root.iter("testcase")}
    assert ("consensuslab.two-phase", "no-wait") in cases and ("consensuslab.hash-chain", "default") in cases
    assert sorted(p.name for p in (tmp_path / "traces").iterdir()) == [
        "hash-chain--unlinked.itf.json", "two-phase--no-wait.itf.json"]


def test_unmet_expectations_fail_with_the_trace(tmp_path, capsys):
    path = tmp_path / "wrong.py"
    path.write_text(textwrap.dedent(WRONG))
    junit = tmp_path / "r.xml"
    code, out, _ = cli(capsys, "check-all", "--protocol", path, "--junit", junit, "--traces", tmp_path / "t")
    assert code == 1
    assert "PASS       wrong:default" in out
    assert "FAIL       wrong:claims-ok" in out and "expected ok, got violation of small (invariant)" in out
    assert "=> small: invariant violated in the last state" in out  # the rendered trace
    assert "where the scenario pins 7" in out
    failures = {c.get("name"): c.find("failure") for c in ET.parse(junit).getroot().iter("testcase")}
    assert failures["default"] is None and failures["claims-ok"] is not None
    assert "ITF trace:" in failures["claims-ok"].text and "Inc" in failures["claims-ok"].text


def test_time_boxed_scenarios_are_incomplete_not_failed(tmp_path, capsys):
    code, out, _ = cli(capsys, "check-all", "--protocol", "two-phase", "--scenario", "rm6", "--time-limit",
                       "0.05", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["counts"] == {"pass": 0, "fail": 0, "incomplete": 1}
    only = doc["scenarios"][0]
    assert only["verdict"] == "incomplete" and only["stopped_by"] == "time-limit"
    assert 0 < only["distinct_states"] < 50816
    junit = tmp_path / "strict.xml"
    code, _, _ = cli(capsys, "check-all", "--protocol", "two-phase", "--scenario", "rm6", "--time-limit",
                     "0.05", "--junit", junit)
    assert code == 0 and ET.parse(junit).getroot().find("testsuite/testcase/skipped") is not None
    code, _, _ = cli(capsys, "check-all", "--protocol", "two-phase", "--scenario", "rm6", "--time-limit",
                     "0.05", "--strict", "--junit", junit)
    assert code == 1 and ET.parse(junit).getroot().find("testsuite/testcase/failure") is not None


def test_bad_selection_is_a_usage_error(capsys):
    code, _, err = cli(capsys, "check-all", "--protocol", "no-such")
    assert code == 2 and "unknown protocol 'no-such'" in err
    code, _, err = cli(capsys, "check-all", "--protocol", "two-phase", "--scenario", "nope")
    assert code == 2 and "no scenario matches" in err
