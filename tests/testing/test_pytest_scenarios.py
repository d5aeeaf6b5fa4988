"""``pytest --consensuslab``: scenarios as test items; failures show the trace and the ITF file."""

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import consensuslab

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(consensuslab.__file__)))
# autoload off: the plugin is named with -p whether or not its entry point is installed
ENV = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
       "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def pytest_run(cwd, *args):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "consensuslab.testing.pytest_scenarios", *args],
                          cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)


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
    (tmp_path / "wrong.py").write_text(textwrap.dedent('''
        from typing import NamedTuple
        from consensuslab import Scenario, Spec, action, always

        class S(NamedTuple):
            n: int

        class Wrong(Spec):
            name = "wrong"
            scenarios = (Scenario("claims-ok", "a broken counter wrongly expected to pass"),)

            def init(self):
                yield S(0)

            @action
            def Inc(self, s):
                if s.n < 3:
                    return S(s.n + 1)

            @always
            def small(self, s):
                return s.n <= 2

            def done(self, s):
                return True
    '''))
    proc = pytest_run(tmp_path, "--consensuslab", "--consensuslab-protocol", "wrong.py",
                      "--consensuslab-traces", "out")
    assert proc.returncode == 1
    assert "expected ok, got violation of small (invariant)" in proc.stdout
    assert "3  Inc" in proc.stdout and "=> small: invariant violated" in proc.stdout
    itf = tmp_path / "out" / "wrong--claims-ok.itf.json"
    assert f"ITF trace: {itf}" in proc.stdout and itf.exists()
