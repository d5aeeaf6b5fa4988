"""A user's own protocol, loaded from a file or module: found, checked, replayed, and its mistakes
reported as one line naming protocol, role and method (exit 2, no traceback)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

import consensuslab
from consensuslab.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(consensuslab.__file__)))

COUNTER = '''
from typing import NamedTuple
from consensuslab import Param, Scenario, Spec, action, always, sometimes

class S(NamedTuple):
    n: int

class Counter(Spec):
    name = "counter"
    params = {"limit": Param(3, "the bound", min=1, max=9)}
    variants = {"overflow": "counts one past the limit"}
    scenarios = (Scenario("default", states=4),
                 Scenario("overflow", variant="overflow", expect="violation", expect_property="bounded"))

    def init(self):
        yield S(0)

    @action
    def Inc(self, s):
        if s.n < self.limit + (self.variant == "overflow"):
            return S(s.n + 1)

    @always
    def bounded(self, s):
        return s.n <= self.limit

    @sometimes
    def full(self, s):
        return s.n == self.limit

    def done(self, s):
        return s.n >= self.limit
'''

ACTOR_HEAD = '''
from consensuslab import Protocol, always, handles, initial, just, local, message, send, state

@message
class Ping:
    pass

@state
class Node:
    pings: int = 0
    log: tuple = ()

class PingPong(Protocol):
    name = "ping-pong"
    def topology(self):
        return {"a": ("a1",), "b": ("b1",)}
    @initial("a")
    def a_init(self, ctx):
        return Node()
    @initial("b")
    def b_init(self, ctx):
        return Node()
    @local("a")
    def a_ping(self, s, ctx):
        if s.pings == 0:
            return Node(pings=1), send("b1", Ping())
    @always
    def fine(self, w):
        return True
    def done(self, w):
        return True
'''


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, *args) -> str:
    code, _out, err = run_cli(capsys, *args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def test_a_file_with_one_protocol_is_checked(tmp_path, capsys):
    path = write(tmp_path, "counter.py", COUNTER)
    code, out, _ = run_cli(capsys, "check", path, "-p", "limit=5")
    assert code == 0
    assert "6 distinct states" in out and "counter" in out


def test_class_is_chosen_with_a_colon_when_the_file_defines_two(tmp_path, capsys):
    path = write(tmp_path, "two.py", COUNTER + "\nclass Counter2(Counter):\n    name = 'counter2'\n")
    line = one_line_error(capsys, "check", path)
    assert "2 protocol classes" in line and "Counter, Counter2" in line and ":ClassName" in line
    code, out, _ = run_cli(capsys, "check", f"{path}:Counter2", "--quiet")
    assert code == 0 and out.startswith("counter2")
    line = one_line_error(capsys, "check", f"{path}:Nope")
    assert "no protocol class 'Nope'" in line


def test_module_option_adds_its_protocols_by_name(tmp_path, capsys, monkeypatch):
    write(tmp_path, "my_protocols_mod.py", COUNTER)
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, _ = run_cli(capsys, "check", "counter", "--module", "my_protocols_mod", "--variant", "overflow",
                           "--quiet")
    assert code == 12 and "bounded" in out
    line = one_line_error(capsys, "check", "counterx", "--module", "my_protocols_mod")
    assert "unknown protocol 'counterx'" in line and "counter" in line


def test_a_user_protocol_trace_replays_in_another_process_only_with_protocol(tmp_path):
    """The trace records the file's absolute path and hash; replay runs it only when the user passes it,
    and then from any directory."""
    write(tmp_path, "counter.py", COUNTER)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def cli(*args, cwd=tmp_path):
        return subprocess.run([sys.executable, "-m", "consensuslab", *args], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=120)

    made = cli("check", "counter.py", "--variant", "overflow", "--trace-out", "t.itf.json", "--quiet")
    assert made.returncode == 12, made.stderr
    meta = json.loads((tmp_path / "t.itf.json").read_text())["#meta"]
    source = f"{tmp_path / 'counter.py'}:Counter"
    assert meta["protocol_source"] == source and meta["source"] == "consensuslab"
    assert len(meta["protocol_sha256"]) == 64
    refused = cli("replay", str(tmp_path / "t.itf.json"), "--quiet", cwd=elsewhere)
    assert refused.returncode == 2 and f"pass --protocol {source}" in refused.stderr, refused.stderr
    replayed = cli("replay", str(tmp_path / "t.itf.json"), "--quiet", "--protocol", source, cwd=elsewhere)
    assert replayed.returncode == 12, replayed.stdout + replayed.stderr
    assert "reproduced: bounded" in replayed.stdout


def test_mutable_state_is_named(tmp_path, capsys):
    text = COUNTER.replace("yield S(0)", "yield S([0])").replace("n: int", "n: list")
    line = one_line_error(capsys, "check", write(tmp_path, "mutable.py", text))
    assert "counter" in line and "init" in line and "mutable" in line and "field 'n' is a list" in line


def test_action_returning_the_wrong_shape_is_named(tmp_path, capsys):
    text = COUNTER.replace("return S(s.n + 1)", "return S(s.n + 1), ()")
    line = one_line_error(capsys, "check", write(tmp_path, "shape.py", text))
    assert "counter: action Inc returned a tuple, not a S state" in line


def test_handler_returning_the_wrong_shape_names_role_and_method(tmp_path, capsys):
    text = ACTOR_HEAD + '''
    @handles("b", Ping)
    def b_on_ping(self, s, m, ctx):
        return Node(pings=s.pings + 1)
'''
    line = one_line_error(capsys, "check", write(tmp_path, "shape_actor.py", text))
    assert "ping-pong: role b, method b_on_ping: expected (new_state, effects)" in line


def test_missing_handler_names_role_and_message(tmp_path, capsys):
    line = one_line_error(capsys, "check", write(tmp_path, "missing.py", ACTOR_HEAD))
    assert "ping-pong: role b has no handler for Ping" in line


def test_handler_that_raises_names_role_method_and_line(tmp_path, capsys):
    text = ACTOR_HEAD + '''
    @handles("b", Ping)
    def b_on_ping(self, s, m, ctx):
        return just(Node(pings=s.no_such_field))
'''
    line = one_line_error(capsys, "check", write(tmp_path, "raises.py", text))
    assert "ping-pong: role b, method b_on_ping raised AttributeError" in line and "raises.py:" in line


def test_mutable_actor_state_names_role_and_method(tmp_path, capsys):
    text = ACTOR_HEAD + '''
    @handles("b", Ping)
    def b_on_ping(self, s, m, ctx):
        return just(Node(log=[1]))
'''
    line = one_line_error(capsys, "check", write(tmp_path, "mutable_actor.py", text))
    assert "role b, method b_on_ping: state Node is mutable" in line


def test_syntax_and_import_errors_are_one_line(tmp_path, capsys):
    line = one_line_error(capsys, "check", write(tmp_path, "syntax.py", "x = 1\ndef broken(:\n"))
    assert "syntax.py:2: syntax error" in line
    line = one_line_error(capsys, "check", write(tmp_path, "imports.py", "import no_such_module_xyz\n"))
    assert "imports.py: loading it raised ModuleNotFoundError" in line and "imports.py:1" in line
    line = one_line_error(capsys, "check", tmp_path / "absent.py")
    assert "does not exist" in line
    line = one_line_error(capsys, "check", write(tmp_path, "empty.py", "X = 1\n"))
    assert "defines no protocol class" in line


def test_setup_that_raises_is_one_line(tmp_path, capsys):
    text = COUNTER.replace("    def init(self):", "    def setup(self):\n        1 / 0\n\n    def init(self):")
    line = one_line_error(capsys, "check", write(tmp_path, "setup.py", text))
    assert "counter: method setup raised ZeroDivisionError" in line


@pytest.mark.parametrize("verb", ["simulate", "mutate", "diff"])
def test_other_verbs_accept_a_path(tmp_path, capsys, verb):
    path = write(tmp_path, f"counter_{verb}.py", COUNTER)
    if verb == "simulate":
        code, out, _ = run_cli(capsys, "simulate", path, "--variant", "overflow", "--examples", "20", "--quiet")
        assert code == 12 and "bounded" in out
    elif verb == "mutate":
        code, out, _ = run_cli(capsys, "mutate", path)
        assert code == 0 and "KILLED     variant:overflow" in out
    else:
        code, out, _ = run_cli(capsys, "diff", path, "--variant", "none", "--variant", "overflow", "--json")
        assert code == 12 and json.loads(out)["only"]["overflow"][0]["value"].startswith("S(n=4)")
