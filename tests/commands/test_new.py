"""``consensuslab new`` writes a protocol and its tests that run out of the box, and never overwrites."""

import os
import subprocess
import sys

import consensuslab
from consensuslab.commands.new import SPEC_TEMPLATE_STATES, TEMPLATE_STATES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(consensuslab.__file__)))
ENV = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
       "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def run(cwd, *args):
    return subprocess.run([sys.executable, *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)


def test_template_checks_and_its_tests_pass(tmp_path):
    made = run(tmp_path, "-m", "consensuslab", "new", "my_vote")
    assert made.returncode == 0, made.stderr
    assert sorted(os.listdir(tmp_path)) == ["my_vote.py", "test_my_vote.py"]
    checked = run(tmp_path, "-m", "consensuslab", "check", "./my_vote.py")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{TEMPLATE_STATES} distinct states" in checked.stdout  # the pin in the template is right
    broken = run(tmp_path, "-m", "consensuslab", "check", "my_vote.py", "--variant", "vote-twice", "--quiet")
    assert broken.returncode == 12 and "at_most_one_leader" in broken.stdout
    tests = run(tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_vote.py")
    assert tests.returncode == 0, tests.stdout
    assert "2 passed" in tests.stdout


def test_refuses_to_overwrite(tmp_path):
    (tmp_path / "test_mine.py").write_text("# mine\n")
    again = run(tmp_path, "-m", "consensuslab", "new", "mine")
    assert again.returncode == 2
    assert again.stderr.strip().count("\n") == 0 and "test_mine.py already exists" in again.stderr
    assert (tmp_path / "test_mine.py").read_text() == "# mine\n" and not (tmp_path / "mine.py").exists()
    bad = run(tmp_path, "-m", "consensuslab", "new", "my-proto")
    assert bad.returncode == 2 and "Python identifier" in bad.stderr


def test_from_subclasses_a_library_protocol(tmp_path):
    made = run(tmp_path, "-m", "consensuslab", "new", "fast_paxos", "--from", "paxos", "--dir", str(tmp_path))
    assert made.returncode == 0, made.stderr
    text = (tmp_path / "fast_paxos.py").read_text()
    assert "class FastPaxos(Paxos):" in text and 'name = "fast-paxos"' in text
    checked = run(tmp_path, "-m", "consensuslab", "check", "fast_paxos.py", "--scenario", "mc")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("fast-paxos --scenario mc") and "25 distinct states" in checked.stdout
    tests = run(tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_fast_paxos.py", "-k",
                "mc or minority")
    assert tests.returncode == 0, tests.stdout
    assert "2 passed" in tests.stdout
    unknown = run(tmp_path, "-m", "consensuslab", "new", "other", "--from", "no-such")
    assert unknown.returncode == 2 and "unknown protocol 'no-such'" in unknown.stderr


def test_spec_template_checks_its_bug_is_found_and_its_tests_pass(tmp_path):
    made = run(tmp_path, "-m", "consensuslab", "new", "my_lock", "--spec")
    assert made.returncode == 0, made.stderr
    text = (tmp_path / "my_lock.py").read_text()
    assert "class MyLock(Spec):" in text and "@action(c=\"Client\", by=\"c\", unchanged=(\"holder\", \"owns\"))" in text
    checked = run(tmp_path, "-m", "consensuslab", "check", "./my_lock.py")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{SPEC_TEMPLATE_STATES} distinct states" in checked.stdout and "warning" not in checked.stderr
    trace = tmp_path / "two-holders.itf.json"
    broken = run(tmp_path, "-m", "consensuslab", "check", "my_lock.py", "--variant", "no-holder-check", "--quiet",
                 "--trace-out", str(trace))
    assert broken.returncode == 12 and "mutual_exclusion" in broken.stdout
    replayed = run(tmp_path, "-m", "consensuslab", "replay", str(trace), "--quiet")
    assert replayed.returncode == 12, replayed.stdout + replayed.stderr
    tests = run(tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_lock.py")
    assert tests.returncode == 0, tests.stdout
    assert "2 passed" in tests.stdout
    both = run(tmp_path, "-m", "consensuslab", "new", "other", "--spec", "--from", "paxos")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
