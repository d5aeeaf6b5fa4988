"""Scenarios in processes of their own: a memory or time overrun ends one scenario as incomplete, a crash
points at the protocol's line, several run at once, and the answers are the same as in this process."""

import importlib.util
import sys
import textwrap

import pytest

from consensuslab.checkers.variants.expect import FAIL, INCOMPLETE, PASS
from consensuslab.checkers.variants.isolated import Limits, Runner
from consensuslab.protocols import protocol_class

SOURCE = '''
import time
from typing import NamedTuple
from consensuslab import Scenario, Spec, action, always


class S(NamedTuple):
    n: int
    pad: tuple


class Tricky(Spec):
    name = "tricky"
    variants = {"divide": "an action divides by zero", "slow": "each step takes 0.2 s",
                "grow": "endless, each state carrying a long tuple"}
    scenarios = (
        Scenario("quick", "ten states", states=11),
        Scenario("crash", "a bug in the protocol's own code", variant="divide"),
        Scenario("slow", "fifty slow steps", variant="slow", states=11),
        Scenario("grow", "a state space without end", variant="grow"),
    )

    def init(self):
        yield S(0, ())

    @action
    def Inc(self, s):
        if self.variant == "divide" and s.n == 3:
            return S(s.n // 0, ())
        if self.variant == "slow":
            time.sleep(0.2)
        if self.variant == "grow":
            return S(s.n + 1, tuple(range(s.n % 50, s.n % 50 + 400)))
        if s.n < 10:
            return S(s.n + 1, ())

    @always
    def fine(self, s):
        return s.n >= 0

    def done(self, s):
        return True
'''


@pytest.fixture(scope="module")
def tricky(tmp_path_factory):
    path = tmp_path_factory.mktemp("tricky") / "tricky.py"
    path.write_text(textwrap.dedent(SOURCE))
    spec = importlib.util.spec_from_file_location("tricky_protocol", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["tricky_protocol"] = module
    spec.loader.exec_module(module)
    yield module.Tricky, path
    del sys.modules["tricky_protocol"]


def test_a_scenario_past_its_memory_limit_is_incomplete_and_the_run_goes_on(tricky):
    cls, _ = tricky
    report = Runner(Limits(time_limit=120, memory_limit=100)).run([(cls, "grow"), (cls, "quick")])
    grow, quick = report.outcomes
    assert grow.verdict == INCOMPLETE and grow.stopped_by == "memory-limit", grow.message
    assert quick.verdict == PASS and quick.distinct_states == 11
    assert not report.interrupted


def test_a_scenario_that_overstays_its_time_limit_is_killed_as_incomplete(tricky):
    cls, _ = tricky
    report = Runner(Limits(time_limit=0.2, grace=0.3)).run([(cls, "slow")])
    (slow,) = report.outcomes
    assert slow.verdict == INCOMPLETE and slow.stopped_by == "time-limit"
    assert "killed after" in slow.message or "stopped by time-limit after" in slow.message


@pytest.mark.parametrize("isolate", [True, False])
def test_a_crash_in_the_protocol_points_at_its_line(tricky, isolate):
    cls, path = tricky
    (out,) = Runner(Limits(time_limit=60), isolate=isolate).run([(cls, "crash")]).outcomes
    assert out.verdict == FAIL and out.error["type"] == "ZeroDivisionError"
    line = textwrap.dedent(SOURCE).splitlines().index("            return S(s.n // 0, ())") + 1
    assert (out.error["file"], out.error["line"]) == (str(path), line)
    assert out.location == {"file": str(path), "line": line}
    assert "ZeroDivisionError" in out.error["traceback"] and "s.n // 0" in out.error["traceback"]


def test_several_at_once_give_the_answers_of_one_at_a_time():
    plan = [(protocol_class("two-phase"), s) for s in ("default", "no-wait")] + [
        (protocol_class("hash-chain"), s) for s in ("default", "unlinked")]
    alone = Runner(Limits(time_limit=60), isolate=False).run(plan).outcomes
    ticks = []
    together = Runner(Limits(time_limit=60), jobs=2, on_tick=lambda running, *_: ticks.append(len(running)),
                      tick_every=0.0).run(plan).outcomes
    assert [(o.name, o.verdict, o.message, o.distinct_states) for o in together] == [
        (o.name, o.verdict, o.message, o.distinct_states) for o in alone]
    assert all(o.verdict == PASS for o in together)
    assert max(ticks) == 2  # two children were running at the same moment


def test_a_failure_is_rendered_in_the_child_with_its_trace(tmp_path):
    from consensuslab.render.text import render_outcome

    cls = protocol_class("two-phase")
    # the no-wait variant expected ok: the scenario list is the protocol's, so judge a copy that expects ok
    wrong = type("WrongTwoPhase", (cls,), {"scenarios": (
        cls.scenario_named("no-wait").__class__("no-wait", "wrongly expected ok", {"rm": 2}, variant="no-wait"),)})
    (out,) = Runner(Limits(time_limit=60), traces_dir=str(tmp_path), describe=render_outcome).run(
        [(wrong, "no-wait")]).outcomes
    assert out.verdict == FAIL and out.result is None  # it crossed a process: JSON only
    assert "=> TCConsistent" in out.report and "ITF trace:" in out.report
    assert (tmp_path / "two-phase--no-wait.itf.json").exists()
