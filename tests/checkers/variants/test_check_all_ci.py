"""``check-all`` in CI: shards, parallel jobs, the cache, the GitHub summary and annotations, JUnit's
timestamp/hostname/properties and <error> for crashes, progress on stderr, and Ctrl-C that never exits 0."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET

import pytest

import consensuslab
from consensuslab.checkers.variants.plan import take_shard
from consensuslab.cli import main

SMALL = ["--protocol", "two-phase", "--protocol", "hash-chain"]  # five scenarios
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(consensuslab.__file__)))

BROKEN = '''
import time
from typing import NamedTuple
from consensuslab import Scenario, Spec, action, always


class S(NamedTuple):
    n: int


class Broken(Spec):
    name = "broken"
    variants = {"over": "counts to 4", "divide": "divides by zero", "slow": "each step takes 0.3 s"}
    scenarios = (
        Scenario("ok", "four states", states=4),
        Scenario("claims-ok", "the invariant breaks at 4, wrongly expected to hold", variant="over"),
        Scenario("crash", "a bug in the action", variant="divide"),
        Scenario("slow", "thirty slow steps", variant="slow", states=31),
        Scenario("after", "never reached when the run is interrupted", states=4),
    )

    def init(self):
        yield S(0)

    @action
    def Inc(self, s):
        if self.variant == "divide":
            return S(1 // s.n)
        if self.variant == "slow":
            time.sleep(0.3)
            return S(s.n + 1) if s.n < 30 else None
        if s.n < 3 + (self.variant == "over"):
            return S(s.n + 1)

    @always
    def small(self, s):
        return s.n <= 3

    def done(self, s):
        return True
'''


@pytest.fixture(autouse=True)
def _own_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (tmp_path / "broken.py").write_text(textwrap.dedent(BROKEN))


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def names(doc):
    return [f"{s['protocol']}:{s['scenario']}" for s in doc["scenarios"]]


def test_shards_are_disjoint_cover_the_plan_and_are_stable(capsys):
    code, out, _ = cli(capsys, "check-all", *SMALL, "--json", "--no-cache")
    everything = names(json.loads(out))
    parts = []
    for i in (1, 2, 3):
        code, out, err = cli(capsys, "check-all", *SMALL, "--shard", f"{i}/3", "--json", "--no-cache")
        assert code == 0 and f"(shard {i}/3 of 5)" in err
        parts.append(names(json.loads(out)))
    assert sorted(sum(parts, [])) == sorted(everything) and sum(map(len, parts)) == 5
    assert parts == [everything[0::3], everything[1::3], everything[2::3]]
    assert take_shard(list(range(7)), 2, 3) == [1, 4]


@pytest.mark.parametrize("shard", ["0/3", "4/3", "x/3", "2", "1/0"])
def test_a_bad_shard_is_one_line_and_exit_2(capsys, shard):
    code, _, err = cli(capsys, "check-all", *SMALL, "--shard", shard)
    assert code == 2 and err.strip().splitlines() == [
        f"error: --shard must be I/N with 1 <= I <= N (say 1/3), not {shard!r}"]


def test_parallel_jobs_report_in_plan_order_with_the_same_verdicts(capsys):
    _, one, _ = cli(capsys, "check-all", *SMALL, "--json", "--no-cache")
    code, two, err = cli(capsys, "check-all", *SMALL, "--json", "--no-cache", "-j", "2")
    strip = lambda doc: [(s["protocol"], s["scenario"], s["verdict"], s["message"]) for s in doc["scenarios"]]  # noqa
    assert code == 0 and strip(json.loads(two)) == strip(json.loads(one))
    assert "check-all: 5 scenarios, 2 at a time; per scenario 120 s, 1,024 MB; no cache" in err


def test_a_second_run_comes_from_the_cache(tmp_path, capsys):
    code, out, err = cli(capsys, "check-all", *SMALL, "--traces", "t1")
    assert code == 0 and "0 from the cache" in out and "cache .consensuslab-cache" in err
    code, out, _ = cli(capsys, "check-all", *SMALL, "--traces", "t2")
    assert code == 0 and "5 passed, 0 failed, 0 incomplete" in out and "5 from the cache" in out
    assert out.count("(cached)]") == 5
    assert sorted(os.listdir("t2")) == sorted(os.listdir("t1"))  # expected counterexamples rewritten
    code, out, err = cli(capsys, "check-all", *SMALL, "--clear-cache")
    assert "cleared 5 cached results" in err and "0 from the cache" in out


def test_junit_has_timestamp_hostname_properties_and_errors_for_crashes(capsys):
    code, out, _ = cli(capsys, "check-all", "--protocol", "broken.py", "--scenario", "ok", "--scenario", "claims-ok",
                       "--scenario", "crash", "--junit", "r.xml", "--traces", "traces")
    assert code == 1
    root = ET.parse("r.xml").getroot()
    suite = root.find("testsuite")
    assert suite.get("hostname") == socket.gethostname() and suite.get("timestamp").startswith("20")
    assert root.get("timestamp") == suite.get("timestamp")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    props = {p.get("name"): p.get("value") for p in cases["ok"].find("properties")}
    assert props["distinct_states"] == "4" and props["kind"] == "exhaustive" and props["status"] == "ok"
    failed = {p.get("name"): p.get("value") for p in cases["claims-ok"].find("properties")}
    assert failed["trace_file"] == os.path.join("traces", "broken--claims-ok.itf.json")
    lines = textwrap.dedent(BROKEN).splitlines()
    small = lines.index("    @always") + 1  # the property's declaration
    assert (cases["claims-ok"].get("file"), cases["claims-ok"].get("line")) == ("broken.py", str(small))
    assert cases["claims-ok"].find("failure") is not None and cases["claims-ok"].find("error") is None
    error = cases["crash"].find("error")
    divide = lines.index("            return S(1 // s.n)") + 1
    assert error is not None and cases["crash"].find("failure") is None
    assert error.get("type") == "ZeroDivisionError" and error.text.startswith(f"broken.py:{divide}: ")
    assert (cases["crash"].get("file"), cases["crash"].get("line")) == ("broken.py", str(divide))


def test_github_summary_and_annotations(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    (tmp_path / "summary.md").write_text("earlier step\n")
    code, out, _ = cli(capsys, "check-all", "--protocol", "broken.py", "--scenario", "ok", "--scenario", "claims-ok",
                       "--scenario", "crash")
    assert code == 1
    lines = textwrap.dedent(BROKEN).splitlines()
    small, divide = lines.index("    @always") + 1, lines.index("            return S(1 // s.n)") + 1
    notes = [line for line in out.splitlines() if line.startswith("::")]
    assert notes == [
        f"::error file=broken.py,line={small},title=consensuslab broken%3Aclaims-ok::expected ok, got violation "
        "of small (invariant)",
        f"::error file=broken.py,line={divide},title=consensuslab broken%3Acrash::error: broken: method Inc raised "
        f"ZeroDivisionError: integer division or modulo by zero (at broken.py:{divide} in Inc)"]
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("earlier step\n## consensuslab check-all\n")  # appended, not overwritten
    assert "2 failed, 1 passed, 0 incomplete of 3 scenarios (0 from the cache)" in summary
    rows = [line for line in summary.splitlines() if line.startswith("| :")][1:]
    assert [r.split("|")[2].strip() for r in rows] == ["`broken:claims-ok`", "`broken:crash`", "`broken:ok`"]
    assert rows[0].startswith("| :x: |") and f"(broken.py:{small})" in rows[0]
    assert rows[2].startswith("| :white_check_mark: |") and "| 4 |" in rows[2]
    code, _, _ = cli(capsys, "check-all", "--protocol", "broken.py", "--scenario", "ok", "--summary", "own.md")
    assert code == 0 and "1 passed" in (tmp_path / "own.md").read_text()


def test_progress_shows_what_is_running(capsys):
    from consensuslab.checkers.variants.isolated import Limits, Runner
    from consensuslab.loader import load_file

    cls = load_file("broken.py")
    seen = []
    Runner(Limits(time_limit=0.5, grace=0.5), on_tick=lambda running, done, total: seen.append(
        (running[0][0], done, total)), tick_every=0.2).run([(cls, "ok"), (cls, "slow")])
    assert ("broken:slow", 1, 2) in seen


def _interrupt(sig, tmp_path):
    """Start check-all on broken.py, send ``sig`` while the slow scenario runs; (exit code, stdout)."""
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "consensuslab", "check-all", "--protocol", "broken.py",
                             "--scenario", "ok", "--scenario", "slow", "--scenario", "after", "--no-cache",
                             "--junit", "r.xml"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()  # the first scenario has finished: the slow one is running now
    assert first.startswith("PASS       broken:ok")
    time.sleep(1.0)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, first + out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_stops_the_run_with_a_partial_report_and_never_exits_0(tmp_path, sig):
    code, out = _interrupt(sig, tmp_path)
    assert code == 128 + sig, out  # interrupted: 130 after Ctrl-C, 143 after SIGTERM, never 0
    assert "INCOMPLETE broken:slow" in out and "incomplete: interrupted" in out
    assert "interrupted: 2 of 3 scenarios finished, 1 not run" in out
    assert "broken:after" not in out.split("interrupted:")[0]
    cases = {c.get("name"): c for c in ET.parse(tmp_path / "r.xml").getroot().iter("testcase")}
    assert cases["after"].find("skipped").get("message") == "not run: the run was interrupted"
    assert cases["ok"].find("system-out") is not None
