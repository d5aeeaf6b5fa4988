"""The result cache: a pass is reused only while the protocol's source, its scenario and the tool are
unchanged; failures are never kept; a corrupt or foreign entry is a miss, never an error (JSON, no pickle)."""

import json
import os
import pickle
import sys
import textwrap

from consensuslab.checkers.variants.cache import ResultCache, source_files, tool_digest
from consensuslab.checkers.variants.expect import FAIL, PASS
from consensuslab.checkers.variants.isolated import Limits, Runner
from consensuslab.loader import load_file
from consensuslab.protocols import protocol_class

HELPER = "LIMIT = 3\n"
PROTOCOL = '''
from typing import NamedTuple
from consensuslab import Scenario, Spec, action, always
from counter_helper import LIMIT


class S(NamedTuple):
    n: int


class Counter(Spec):
    name = "counter"
    variants = {"over": "counts one past the limit"}
    scenarios = (Scenario("default", states=LIMIT + 1),
                 Scenario("over", "the broken variant", variant="over", expect="violation",
                          expect_property="within"),
                 Scenario("wrong", "wrongly expects the broken variant to hold", variant="over"))

    def init(self):
        yield S(0)

    @action
    def Inc(self, s):
        if s.n < LIMIT + (self.variant == "over"):
            return S(s.n + 1)

    @always
    def within(self, s):
        return s.n <= LIMIT

    def done(self, s):
        return True
'''


def _setup(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "counter_helper", raising=False)  # each test imports its own
    (tmp_path / "counter_helper.py").write_text(HELPER)
    (tmp_path / "counter.py").write_text(textwrap.dedent(PROTOCOL))
    monkeypatch.syspath_prepend(str(tmp_path))
    return load_file(str(tmp_path / "counter.py"))


def _run(cls, cache, traces=None):
    plan = [(cls, s) for s in ("default", "over", "wrong")]
    return Runner(Limits(time_limit=60), cache=cache, traces_dir=traces, isolate=False).run(plan).outcomes


def test_passes_are_reused_failures_are_not(tmp_path, monkeypatch):
    cls = _setup(tmp_path, monkeypatch)
    cache = ResultCache(str(tmp_path / "cache"))
    first = _run(cls, cache)
    assert [(o.verdict, o.cached) for o in first] == [(PASS, False), (PASS, False), (FAIL, False)]
    assert len(os.listdir(tmp_path / "cache")) == 2
    second = _run(cls, ResultCache(str(tmp_path / "cache")), traces=str(tmp_path / "traces"))
    assert [(o.verdict, o.cached) for o in second] == [(PASS, True), (PASS, True), (FAIL, False)]
    assert [o.message for o in second] == [o.message for o in first]
    # the expected counterexample comes back from the cache as a trace that replays
    from consensuslab.cli import main

    trace = tmp_path / "traces" / "counter--over.itf.json"
    assert second[1].trace_file == str(trace)
    assert main(["replay", str(trace), "--quiet"]) == 12


def test_a_change_to_the_protocol_or_what_it_imports_is_a_miss(tmp_path, monkeypatch):
    cls = _setup(tmp_path, monkeypatch)
    assert str(tmp_path / "counter_helper.py") in source_files(cls)
    cache = ResultCache(str(tmp_path / "cache"))
    before = cache.key(cls, "default")
    (tmp_path / "counter_helper.py").write_text(HELPER + "# an edit\n")
    assert ResultCache(str(tmp_path / "cache")).key(cls, "default") != before
    (tmp_path / "counter_helper.py").write_text(HELPER)
    assert ResultCache(str(tmp_path / "cache")).key(cls, "default") == before
    assert cache.key(cls, "over") != before  # another scenario, another entry


def test_the_tool_digest_follows_its_source(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    first = tool_digest(str(tmp_path))
    (tmp_path / "a.py").write_text("x = 2\n")
    assert tool_digest(str(tmp_path)) != first
    assert tool_digest() == tool_digest()


def test_corrupt_or_foreign_entries_are_misses_and_are_replaced(tmp_path):
    cls = protocol_class("two-phase")
    cache = ResultCache(str(tmp_path / "cache"))
    Runner(Limits(time_limit=60), cache=cache, isolate=False).run([(cls, "default")])
    (entry,) = (tmp_path / "cache").iterdir()
    good = entry.read_text()
    doc = json.loads(good)
    foreign = dict(doc, key=dict(doc["key"], source="0" * 64))
    broken_outcome = dict(doc, outcome={"verdict": "pass"})
    for bad in (b"\x80\x04not json", pickle.dumps({"verdict": "pass"}), b"[]", json.dumps(foreign).encode(),
                json.dumps(broken_outcome).encode(), good[: len(good) // 2].encode()):
        entry.write_bytes(bad)
        assert cache.get(cls, "default") is None
        (out,) = Runner(Limits(time_limit=60), cache=cache, isolate=False).run([(cls, "default")]).outcomes
        assert out.verdict == PASS and not out.cached and out.distinct_states == 288
        assert cache.get(cls, "default") is not None  # written afresh


def test_clear_empties_the_folder(tmp_path):
    cache = ResultCache(str(tmp_path / "cache"))
    Runner(Limits(time_limit=60), cache=cache, isolate=False).run([(protocol_class("two-phase"), "default")])
    assert cache.clear() == 1 and not (tmp_path / "cache").exists()
    assert cache.clear() == 0
