"""Protocols written by a careless or hostile user, as source text: each breaks one rule of the framework."""

import subprocess
import sys
import textwrap
import time

from paths import ROOT

SPEC = '''
import random
import sys
from typing import NamedTuple
from consensuslab import Spec, action, always

class S(NamedTuple):
    n: int

class Hostile(Spec):
    name = "hostile"

    def init(self):
        yield S(0)

    @action
    def Inc(self, s):
        if s.n < 3000:
            return S(s.n + 1)

    @always
    def fine(self, s):
        return True

    def done(self, s):
        return s.n == 3000
'''

ACTOR = '''
import sys
from consensuslab import Protocol, always, handles, initial, just, local, message, send, state

@message
class Ping:
    pass

@state
class Node:
    pings: int = 0

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
        if s.pings < 3:
            return Node(pings=s.pings + 1), send("b1", Ping())

    @handles("b", Ping)
    def b_on_ping(self, s, m, ctx):
        return just(Node(pings=s.pings + 1))

    @always
    def fine(self, w):
        return True

    def done(self, w):
        return True
'''


def spec(tmp_path, old: str, new: str, name: str = "hostile.py"):
    """The spec with ``old`` replaced by ``new`` (which must occur), written to ``tmp_path/name``."""
    return _write(tmp_path, name, SPEC, old, new)


def actor(tmp_path, old: str, new: str, name: str = "ping.py"):
    return _write(tmp_path, name, ACTOR, old, new)


def _write(tmp_path, name, text, old, new):
    text = textwrap.dedent(text)
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return path


def run(*args, timeout: float = 60, cwd=None, env=None):
    """``consensuslab ARGS`` in a subprocess: (completed process, wall seconds)."""
    import os

    environ = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               **(env or {})}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "consensuslab", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=environ)
    return proc, time.monotonic() - started


def one_line(proc) -> str:
    """The single line a refused command prints on stderr (no traceback)."""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]
