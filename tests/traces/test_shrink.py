"""The one shrinker's bounded searches: the breadth-first length from a long random behaviour, and a
fault-free counterexample where the breadth-first one used a fault."""

import textwrap

from consensuslab.commands.replay import replay_file
from consensuslab.traces.shrink import shrink

from clirun import cli
from paths import TRACES

SPEC = '''
from typing import NamedTuple
from consensuslab import Spec, action, always, record


@record
class Count(NamedTuple):
    n: int


class Shortcut(Spec):
    """Three increments reach 3; the network's DropAndJump (a declared fault) gets there in one."""
    name = "shortcut"

    def init(self):
        yield Count(0)

    @action
    def Inc(self, s):
        if s.n < 3:
            return Count(s.n + 1)

    @action(fault=True)
    def DropAndJump(self, s):
        if s.n == 0:
            return Count(3)

    @always
    def below_three(self, s):
        return s.n < 3

    def done(self, s):
        return True
'''


def test_a_simulated_figure8_shrinks_to_the_breadth_first_length():
    done = replay_file(str(TRACES / "raft-figure8-simulated.itf.json"))
    assert len(done.trace) == 53
    shrunk = shrink(done.model, done.trace, done.violation)
    assert len(shrunk.trace) == 48 and shrunk.summary == "needs no fault: 48 correct steps violate it"
    assert shrunk.searched == ["a breadth-first search found a shorter counterexample of 48 steps (150,963 states)"]


def test_a_fault_the_bug_does_not_need_is_searched_away(tmp_path):
    spec = tmp_path / "shortcut.py"
    spec.write_text(textwrap.dedent(SPEC))
    cex = tmp_path / "cex.itf.json"
    found = cli("check", spec, "--trace-out", cex)
    assert found.returncode == 12 and "1  DropAndJump  [fault]" in found.stdout  # breadth-first: one faulty step
    out = tmp_path / "min.itf.json"
    proc = cli("trace", "minimize", cex, "-o", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "minimised 1 -> 3 steps, 1 -> 0 faults" in proc.stdout
    assert "below_three: needs no fault: 3 correct steps violate it" in proc.stdout
    assert "a breadth-first search found a fault-free counterexample of 3 steps" in proc.stdout
    again = cli("replay", out, "--quiet")
    assert again.returncode == 12 and "after 3 steps" in again.stdout
    kept = cli("trace", "minimize", cex, "--quiet", "--search-states", "0")
    assert "minimised 1 -> 1 steps, 1 -> 1 faults" in kept.stdout  # the search is what removes it


def test_searches_that_find_nothing_say_what_they_proved():
    done = replay_file(str(TRACES / "pbft-weak-quorum-dfs.itf.json"))
    first = shrink(done.model, done.trace, done.violation)
    assert (len(first.trace), sum(first.after_faults.values())) == (12, 2)
    assert first.searched == [
        "no fault-free counterexample exists within 30 steps (every path searched: 744 states)",
        "no shorter counterexample exists within 11 steps (every path searched: 10,146 states)"]
    again = shrink(done.model, done.trace, done.violation)
    assert again.trace.actions == first.trace.actions  # deterministic: bounded by states, not time
