"""The linearizability checker: classic histories, and cross-checks against brute force.

The brute-force oracle below shares no code with the checker: it pairs events itself and
tries every subset of the optional operations in every order that respects real time.
"""

from __future__ import annotations

import itertools
import json
import random

import attrs
import pytest

from consensuslab.errors import UsageError
from consensuslab.histories.history import parse_history
from consensuslab.histories.linearizability import check, is_linearizable

from paths import BENCHMARKS, DATA

HISTORIES = DATA / "histories"
INF = float("inf")


def inv(p, f, value=None, key=None):
    return {"process": p, "type": "invoke", "f": f, "value": value} | ({"key": key} if key is not None else {})


def done(p, f, value=None, type="ok", key=None):
    return {"process": p, "type": type, "f": f, "value": value} | ({"key": key} if key is not None else {})


def call(p, f, value=None, result=None, type="ok"):
    """A sequential (non-overlapping) operation: its invoke immediately followed by its completion."""
    return [inv(p, f, value), done(p, f, result if f == "read" else value, type)]


def _timeless(verdict):
    return attrs.evolve(verdict, witness_seconds=0.0)


# --- Brute force -----------------------------------------------------------------------

def pair(events):
    """[(f, key, value, invoke, complete, type)] with complete None when pending at the end."""
    ops, open_ = [], {}
    for i, e in enumerate(events):
        if e["type"] == "invoke":
            open_[e["process"]] = len(ops)
            ops.append([e["f"], e.get("key"), e["value"], i, None, "info"])
        else:
            op = ops[open_.pop(e["process"])]
            op[4], op[5] = i, e["type"]
            if e["f"] == "read":
                op[2] = e["value"]
    return [tuple(op) for op in ops]


def brute(ops, required, optional):
    """Some subset of ``optional`` plus all of ``required`` has a legal order within their intervals.

    Each op is (f, key, value, invoke, complete); complete may be INF.
    """
    for k in range(len(optional) + 1):
        for chosen in itertools.combinations(optional, k):
            group = list(required) + list(chosen)
            for order in itertools.permutations(group):
                if any(ops[b][4] < ops[a][3] for x, a in enumerate(order) for b in order[x + 1:]):
                    continue  # b completed before a was invoked, yet comes after it
                state, legal = {}, True
                for i in order:
                    f, key, value = ops[i][:3]
                    cur = state.get(key)
                    if f == "read" and cur != value or f == "cas" and cur != value[0]:
                        legal = False
                        break
                    if f != "read":
                        state[key] = value if f == "write" else value[1]
                if legal:
                    return True
    return False


def brute_lin(events, cut=None):
    """Linearizable up to event ``cut`` (exclusive): fails dropped, open ops may or may not happen."""
    cut = len(events) if cut is None else cut
    ops = [(f, k, tuple(v) if f == "cas" else v, i, c if t == "ok" and c < cut else INF)
           for f, k, v, i, c, t in pair(events) if t != "fail" and i < cut]
    required = [n for n, op in enumerate(ops) if op[4] != INF]
    optional = [n for n, op in enumerate(ops) if op[4] == INF and op[0] != "read"]
    return brute(ops, required, optional)


def random_history(rng, keys=(None,), max_ops=6, cas=True):
    processes = rng.randint(1, 3)
    per = [[] for _ in range(processes)]
    for _ in range(rng.randint(1, max_ops)):
        p = rng.randrange(processes)
        f = rng.choice(["read", "write", "cas"] if cas else ["read", "write"])
        key = rng.choice(keys)
        value = [rng.choice([None, 1, 2]), rng.choice([1, 2])] if f == "cas" else rng.choice([1, 2])
        kind = rng.choices(["ok", "info", "fail", None], [8, 1, 1, 1])[0]
        result = rng.choice([None, 1, 2]) if f == "read" else value
        per[p].append((inv(p, f, None if f == "read" else value, key),
                       None if kind is None else done(p, f, result, kind, key)))
    queues = [[e for pair_ in ops for e in pair_ if e is not None] for ops in per]
    events = []
    while any(queues):
        q = rng.choice([q for q in queues if q])
        events.append(q.pop(0))
    return _well_formed(events)


def _well_formed(events):
    """Drop events after a process's pending invoke (a process has one op at a time)."""
    out, pending, stopped = [], {}, set()
    for e in events:
        p = e["process"]
        if p in stopped:
            continue
        if e["type"] == "invoke" and pending.get(p):
            stopped.add(p)
            continue
        pending[p] = e["type"] == "invoke"
        out.append(e)
    return out


# --- Classic register histories ----------------------------------------------------------
# Written out by hand in the style of Herlihy & Wing's figures (processes A=0, B=1, C=2 on a
# time line) and of the Jepsen/Knossos examples. The register starts as null.

CLASSIC = {
    # A write overlapping a read: the read may return the old or the new value.
    "read during write sees old": ([inv(0, "write", 1), inv(1, "read"), done(1, "read", None),
                                    done(0, "write", 1)], True),
    "read during write sees new": ([inv(0, "write", 1), inv(1, "read"), done(1, "read", 1),
                                    done(0, "write", 1)], True),
    # ...but two sequential reads during it cannot see new then old (atomic, not regular).
    "new-old inversion": ([inv(0, "write", 1), *call(1, "read", result=1), *call(2, "read", result=None),
                           done(0, "write", 1)], False),
    # Overlapping writes take effect in either order; later reads must agree on one.
    "concurrent writes, 1 last": ([inv(0, "write", 1), inv(1, "write", 2), done(0, "write", 1),
                                   done(1, "write", 2), *call(2, "read", result=1)], True),
    "concurrent writes, 2 last": ([inv(0, "write", 1), inv(1, "write", 2), done(0, "write", 1),
                                   done(1, "write", 2), *call(2, "read", result=2)], True),
    "concurrent writes, both last": ([inv(0, "write", 1), inv(1, "write", 2), done(0, "write", 1),
                                      done(1, "write", 2), *call(2, "read", result=2),
                                      *call(2, "read", result=1)], False),
    "stale read": ([*call(0, "write", 1), *call(0, "write", 2), *call(1, "read", result=1)], False),
    "lost write": ([*call(0, "write", 1), *call(1, "read", result=None)], False),
    "read of a value never written": ([*call(0, "write", 1), *call(1, "read", result=3)], False),
    "sequential is fine": ([*call(0, "write", 1), *call(1, "read", result=1), *call(0, "write", 2),
                            *call(1, "read", result=2)], True),
    # info: may have happened, at any time after its invoke, or never.
    "info write seen later": ([*call(0, "write", 1, type="info"), *call(1, "read", result=1)], True),
    "info write never seen": ([*call(0, "write", 1, type="info"), *call(1, "read", result=None)], True),
    "info write cannot be undone": ([*call(0, "write", 1, type="info"), *call(1, "read", result=1),
                                     *call(1, "read", result=None)], False),
    "info write cannot act before its invoke": ([*call(1, "read", result=1),
                                                 *call(0, "write", 1, type="info")], False),
    "info write pending at the end": ([*call(1, "read", result=None), inv(0, "write", 1),
                                       *call(1, "read", result=1)], True),
    # fail: did not happen.
    "failed write not seen": ([*call(0, "write", 1, type="fail"), *call(1, "read", result=None)], True),
    "failed write seen": ([*call(0, "write", 1, type="fail"), *call(1, "read", result=1)], False),
}

CAS = {
    "cas ok took effect": ([*call(0, "write", 0), *call(1, "cas", [0, 1]), *call(2, "read", result=1)], True),
    "cas ok not seen": ([*call(0, "write", 0), *call(1, "cas", [0, 1]), *call(2, "read", result=0)], False),
    "cas ok from wrong value": ([*call(0, "write", 5), *call(1, "cas", [0, 1])], False),
    "cas fail did nothing": ([*call(0, "write", 0), *call(1, "cas", [0, 1], type="fail"),
                              *call(2, "read", result=0)], True),
    "cas fail seen": ([*call(0, "write", 0), *call(1, "cas", [0, 1], type="fail"),
                       *call(2, "read", result=1)], False),
    "cas from null": ([*call(1, "cas", [None, 1]), *call(2, "read", result=1)], True),
    "two concurrent cas from 0 both ok": (json.loads((HISTORIES / "cas-both-succeed.json").read_text()), False),
    "two concurrent cas, one fails": ([*call(0, "write", 0), inv(1, "cas", [0, 1]), inv(2, "cas", [0, 2]),
                                       done(1, "cas", [0, 1]), done(2, "cas", [0, 2], "fail"),
                                       *call(0, "read", result=1)], True),
    "info cas may have succeeded": ([*call(0, "write", 0), *call(1, "cas", [0, 1], type="info"),
                                     *call(2, "read", result=1), *call(2, "cas", [1, 2])], True),
}


@pytest.mark.parametrize("name", CLASSIC)
def test_classic_register_histories(name):
    events, expected = CLASSIC[name]
    assert brute_lin(events) is expected  # the table itself is right
    assert is_linearizable(events, "register") is expected
    assert check(events, "register").linearizable is expected


@pytest.mark.parametrize("name", CAS)
def test_cas_register_histories(name):
    events, expected = CAS[name]
    assert brute_lin(events) is expected
    assert check(events, "cas-register").linearizable is expected


def test_stale_read_report_names_the_read_and_the_overwrite():
    events = json.loads((HISTORIES / "stale-read.json").read_text())
    v = check(events, "register")
    assert not v.linearizable and v.witness_minimal
    # write 2 completed before the read began; write 1 can stay as it is or not have happened.
    assert [(op.f, op.value) for op in v.witness] == [("write", 2), ("read", 1)]
    assert v.blocked.f == "read" and v.blocked.complete == 5
    assert (v.prefix_events, v.prefix_operations) == (5, 3)


def test_kv_witness_comes_from_the_failing_key():
    events = json.loads((HISTORIES / "kv-stale-read.json").read_text())
    v = check(events, "kv")
    assert not v.linearizable and v.key == "x"
    assert {op.key for op in v.witness} == {"x"}
    assert [(op.f, op.value) for op in v.witness] == [("write", 2), ("read", 1)]
    assert is_linearizable([e for e in events if e["key"] == "y"], "kv")


def test_ghost_history_as_operations_gives_the_same_verdict():
    events = json.loads((HISTORIES / "stale-read.json").read_text())
    ops = parse_history(events, "register")
    assert _timeless(check(list(reversed(ops)), "register")) == _timeless(check(events, "register"))


# --- Differential tests against brute force ----------------------------------------------

def test_checker_agrees_with_brute_force_on_random_histories():
    rng = random.Random(20240610)
    verdicts = []
    for _ in range(400):
        events = random_history(rng)
        expected = brute_lin(events)
        assert check(events, "cas-register").linearizable is expected, events
        verdicts.append(expected)
    assert 0.2 < sum(verdicts) / len(verdicts) < 0.8  # both outcomes well exercised


def test_longest_prefix_is_exact():
    """Up to event ``prefix_events`` the history is linearizable; one more event and it is not."""
    rng = random.Random(7)
    checked = 0
    while checked < 150:
        events = random_history(rng)
        v = check(events, "cas-register")
        if v.linearizable:
            continue
        checked += 1
        cut = v.prefix_events
        assert brute_lin(events, cut) and not brute_lin(events, cut + 1), (cut, events)
        assert events[cut]["type"] == "ok" and v.blocked.complete == cut
        assert v.prefix_operations == sum(1 for e in events[:cut] if e["type"] == "invoke")


def test_witness_is_minimal_by_brute_force():
    """The witness cannot be linearized whichever other ops happened; without any one of it, it can."""
    rng = random.Random(11)
    checked = 0
    while checked < 150:
        events = random_history(rng)
        v = check(events, "cas-register")
        if v.linearizable:
            continue
        checked += 1
        assert v.witness_minimal and v.blocked in v.witness
        ops = [(f, k, tuple(x) if f == "cas" else x, i, c if t == "ok" else INF)
               for f, k, x, i, c, t in pair(events) if t != "fail"]
        invokes = [op[3] for op in ops]
        exact = [invokes.index(op.invoke) for op in v.witness]
        assert all(op.status == "ok" for op in v.witness)
        rest = [n for n in range(len(ops)) if n not in exact]
        assert not brute(ops, exact, rest), events
        for drop in exact:
            assert brute(ops, [n for n in exact if n != drop], rest + [drop]), (drop, events)


def test_same_history_same_witness():
    rng = random.Random(3)
    for _ in range(30):
        events = random_history(rng)
        assert _timeless(check(events, "cas-register")) == _timeless(check(events, "cas-register"))


def test_per_key_decomposition_agrees_with_whole_search():
    rng = random.Random(5)
    verdicts = []
    for _ in range(300):
        events = random_history(rng, keys=("x", "y"))
        expected = brute_lin(events)
        assert is_linearizable(events, "kv", decompose=False) is expected, events
        assert is_linearizable(events, "kv") is expected, events
        verdicts.append(expected)
    assert 0.2 < sum(verdicts) / len(verdicts) < 0.8


def test_simulated_histories_are_linearizable_and_stale_reads_are_caught():
    """Larger histories from the benchmark's simulator: correct by construction, then broken."""
    import importlib.util

    path = BENCHMARKS / "bench_linearizability.py"
    spec = importlib.util.spec_from_file_location("bench_linearizability", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for seed in range(4):
        events = bench.simulate(300, 4, keys=3, cas=True, info_rate=0.01, seed=seed)
        assert check(events, "kv").linearizable
        broken, at = bench.inject_stale_read(events, seed)
        v = check(broken, "kv")
        assert not v.linearizable and v.witness_minimal
        assert v.prefix_events <= at  # the stale read is at the latest where it fails


# --- Parsing --------------------------------------------------------------------------------

@pytest.mark.parametrize("events, model, message", [
    ([inv(0, "write", 1), {"process": 0, "type": "done", "f": "write"}], "register", "event 1: unknown type"),
    ([done(0, "write", 1)], "register", "event 0: ok for process 0 without a pending invoke"),
    ([inv(0, "write", 1), inv(0, "read")], "register", "event 1: invoke while process 0"),
    ([inv(0, "cas", [0, 1])], "register", "event 0: bad f 'cas' for the register model"),
    ([inv(0, "read")], "kv", "event 0: missing 'key'"),
    ([inv(0, "cas", [1, 2, 3])], "cas-register", "event 0: cas value must be a pair"),
    ([inv(0, "write", 1), done(0, "read", 1)], "register", "event 1: ok has f 'read'"),
    ([inv(0, "read"), {"process": 0, "type": "ok", "f": "read"}], "register", "event 1: ok read without"),
    ([inv(0, "write", 1, key="x")], "register", "event 0: has a 'key'"),
    ([["not", "an", "object"]], "register", "event 0: expected a JSON object"),
    ([{"type": "invoke", "f": "read"}], "register", "event 0: missing 'process'"),
    ({"process": 0}, "register", "a history must be a JSON list"),
])
def test_malformed_histories_name_the_event(events, model, message):
    with pytest.raises(UsageError) as err:
        parse_history(events, model)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_pending_and_nemesis_events():
    events = [{"process": "nemesis", "type": "info", "f": "start"}, inv(0, "write", 1)]
    (op,) = parse_history(events, "register")
    assert (op.status, op.complete, op.invoke) == ("info", None, 1)


def test_minimising_out_of_time_reports_an_unproven_but_failing_set(monkeypatch):
    import consensuslab.histories.linearizability as lin

    events = json.loads((HISTORIES / "stale-read.json").read_text())
    real, calls = lin.search, [0]

    def slow(*args):
        calls[0] += 1
        if calls[0] > 1:  # one key: the first search decides, the others are the minimiser's
            raise lin.OutOfTime
        return real(*args)

    monkeypatch.setattr(lin, "search", slow)
    v = lin.check(events, "register")
    assert not v.linearizable and not v.witness_minimal
    assert [op.index for op in v.witness] == [0, 1, 2]  # every candidate: still inconsistent
