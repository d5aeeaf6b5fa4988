"""``pytest --consensuslab``: scenarios as test items; failures show the trace and the ITF file; limits,
the cache, shards, xdist's -n and the GitHub summary work as in ``check-all``."""

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import consensuslab

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(consensuslab.__file__)))
# autoload off: the plugin is named with -p whether or not its entry point is installed
ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")},
       "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def pytest_run(cwd, *args, env=None):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "consensuslab.testing.pytest_scenarios", *args],
                          cwd=cwd, env={**ENV, **(env or {})}, capture_output=True, text=True, timeout=300)


WRONG = '''
from typing import NamedTuple
from consensuslab import Scenario, Spec, action, always

class S(NamedTuple):
    n: int
    pad: tuple

class Wrong(Spec):
    name = "wrong"
    variants = {"grow": "a counter without end, each state carrying a long tuple"}
    scenarios = (Scenario("claims-ok", "a broken counter wrongly expected to pass"),
                 Scenario("grow", "beyond any memory limit", variant="grow"))

    def init(self):
        yield S(0, ())

    @action
    def Inc(self, s):
        if self.variant == "grow":
            return S(s.n + 1, tuple(range(s.n % 50, s.n % 50 + 400)))
        if s.n < 3:
            return S(s.n + 1, ())

    @always
    def small(self, s):
        return s.n <= 2 or self.variant == "grow"

    def done(self, s):
        return True
'''


def test_registered_scenarios_become_marked_items(tmp_path):
    proc = pytest_run(tmp_path, "--consensuslab", "-k", "two-phase: or hash-chain:", "-m", "consensuslab",
                      "-v", "--junitxml", "j.xml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("two-phase:default", "two-phase:rm6", "two-phase:no-wait", "hash-chain:unlinked"):
        assert f"consensuslab::{name} PASSED" in proc.stdout
    assert "5 passed" in proc.stdout and "two-phase-actors" not in proc.stdout.split("deselected")[-1]
    cases = [c.get("name") for c in ET.parse(tmp_path / "j.xml").getroot().iter("testcase")]
    assert sorted(cases) == ["hash-chain:default", "hash-chain:unlinked", "two-phase:default",
                             "two-phase:no-wait", "two-phase:rm6"]


def test_off_without_the_flag(tmp_path):
    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n")
    proc = pytest_run(tmp_path, "-q")
    assert proc.returncode == 0 and "1 passed" in proc.stdout


def test_failure_prints_the_trace_and_the_itf_path(tmp_path):
    (tmp_path / "wrong.py").write_text(textwrap.dedent(WRONG))
    proc = pytest_run(tmp_path, "--consensuslab", "--consensuslab-protocol", "wrong.py", "-k", "claims-ok",
                      "--consensuslab-traces", "out")
    assert proc.returncode == 1
    assert "expected ok, got violation of small (invariant)" in proc.stdout
    assert "3  Inc" in proc.stdout and "=> small: invariant violated" in proc.stdout
    itf = tmp_path / "out" / "wrong--claims-ok.itf.json"
    assert f"ITF trace: {itf}" in proc.stdout and itf.exists()
    line = textwrap.dedent(WRONG).splitlines().index("    @always") + 1
    assert f"wrong.py:{line}: declared here" in proc.stdout


def test_limits_end_a_scenario_as_skipped_incomplete(tmp_path):
    (tmp_path / "wrong.py").write_text(textwrap.dedent(WRONG))
    proc = pytest_run(tmp_path, "--consensuslab", "--consensuslab-protocol", "wrong.py", "-k", "grow",
                      "--consensuslab-memory-limit", "100", "-rs")
    assert proc.returncode == 0 and "1 skipped" in proc.stdout, proc.stdout
    assert "incomplete: stopped by memory-limit" in proc.stdout
    proc = pytest_run(tmp_path, "--consensuslab", "--consensuslab-protocol", "two-phase", "-k", "two-phase:rm6",
                      "--consensuslab-time-limit", "0.3", "-rs")  # 50,816 states: seconds, on any engine
    assert proc.returncode == 0 and "1 skipped" in proc.stdout, proc.stdout
    assert "incomplete: stopped by time-limit" in proc.stdout


def _junit_properties(path):
    return {c.get("name"): {p.get("name"): p.get("value") for p in c.iter("property")}
            for c in ET.parse(path).getroot().iter("testcase")}


def test_the_cache_and_the_junit_properties(tmp_path):
    proc = pytest_run(tmp_path, "--consensuslab", "--consensuslab-protocol", "two-phase", "--junitxml", "1.xml")
    assert proc.returncode == 0 and "3 passed" in proc.stdout
    first = _junit_properties(tmp_path / "1.xml")
    assert first["two-phase:rm6"]["distinct_states"] == "50816" and "cached" not in first["two-phase:rm6"]
    assert first["two-phase:no-wait"]["trace_file"].endswith("two-phase--no-wait.itf.json")
    assert (tmp_path / ".consensuslab-cache").is_dir()
    proc = pytest_run(tmp_path, "--consensuslab", "--consensuslab-protocol", "two-phase", "--junitxml", "2.xml")
    assert proc.returncode == 0 and "3 passed" in proc.stdout
    second = _junit_properties(tmp_path / "2.xml")
    assert all(props["cached"] == "True" for props in second.values())
    proc = pytest_run(tmp_path, "--consensuslab", "--consensuslab-protocol", "two-phase", "--junitxml", "3.xml",
                      "--consensuslab-no-cache")
    assert not any("cached" in props for props in _junit_properties(tmp_path / "3.xml").values())


def test_a_shard_keeps_its_part_of_the_items(tmp_path):
    proc = pytest_run(tmp_path, "--consensuslab", "--consensuslab-protocol", "two-phase", "--consensuslab-shard",
                      "2/2", "-v", "--consensuslab-no-cache")
    assert proc.returncode == 0 and "1 passed" in proc.stdout
    assert "consensuslab::two-phase:rm6 PASSED" in proc.stdout and "no-wait" not in proc.stdout
    proc = pytest_run(tmp_path, "--consensuslab", "--consensuslab-shard", "3/2")
    assert proc.returncode != 0 and "--shard must be I/N with 1 <= I <= N" in proc.stderr


def test_xdist_workers_and_the_github_summary(tmp_path):
    (tmp_path / "wrong.py").write_text(textwrap.dedent(WRONG))
    summary = tmp_path / "summary.md"
    proc = pytest_run(tmp_path, "-p", "xdist.plugin", "-n", "2", "--consensuslab", "--consensuslab-protocol",
                      "two-phase", "--consensuslab-protocol", "wrong.py", "-k", "not grow", "--consensuslab-no-cache",
                      env={"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ACTIONS": "true"})
    assert proc.returncode == 1 and "1 failed, 3 passed" in proc.stdout, proc.stdout
    assert "2 workers" in proc.stdout
    line = textwrap.dedent(WRONG).splitlines().index("    @always") + 1
    assert (f"::error file=wrong.py,line={line},title=consensuslab wrong%3Aclaims-ok::expected ok, got violation "
            "of small (invariant)") in proc.stdout
    text = summary.read_text()
    assert text.startswith("## pytest --consensuslab") and "1 failed, 3 passed, 0 incomplete of 4 scenarios" in text
    assert text.count("| :white_check_mark: |") == 3 and "| :x: | `wrong:claims-ok` |" in text
