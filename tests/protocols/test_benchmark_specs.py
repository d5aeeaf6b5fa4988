"""The TLA+ Examples transcribed under benchmarks/specs/: TLC's counts on small models, broken variants caught.

Each count is TLC's distinct-state count for the same constants: from the TLA+
Examples' manifest where it records one (EWD840 with N = 3 and N = 4), else
from a TLC run on the original module with the constants given (see each
file's docstring).  The manifest's own configurations (50,000 to 1.4 million
states) are the benchmarks, too slow for the test suite.
"""


import pytest

from consensuslab import check
from consensuslab.checkers.replay import replay_document
from consensuslab.traces.itf import trace_document

from benchmark_specs import BROKEN, SMALL, spec_class
from replaying import replay_states


@pytest.mark.parametrize("name,params,tlc", SMALL, ids=[f"{n}-{'-'.join(f'{k}{v}' for k, v in p.items())}"
                                                         for n, p, _ in SMALL])
def test_distinct_states_equal_tlc(name, params, tlc):
    r = check(spec_class(name)(params).compile(), progress=False, engine="interpreted")
    assert r.status == "ok"
    assert r.distinct_states == tlc
    assert all(v in ("holds", "witnessed") for v in r.properties.values()), r.properties


@pytest.mark.parametrize("name,variant,params,prop", BROKEN, ids=[b[1] for b in BROKEN])
def test_broken_variant_is_found_and_replays(name, variant, params, prop):
    cls = spec_class(name)
    model = cls(params, variant).compile()
    r = check(model, progress=False)
    assert r.status == "violation"
    assert r.violation.property == prop
    states = replay_states(cls(params, variant).compile(), r.violation.trace)
    assert len(states) == len(r.violation.trace) + 1
    done = replay_document(trace_document(model, r.violation.trace, r.violation), model)
    assert done.violation.property == prop


def ewd998_counter2(engine):
    cls = spec_class("ewd998")
    return check(cls.configure(scenario="counter2").compile(), progress=False, engine=engine)


def test_ewd998_counts_with_negative_counters_compiled():
    r = ewd998_counter2("compiled")
    assert r.extra["engine"] == "compiled"
    assert (r.status, r.distinct_states) == ("ok", 20870)


def test_ewd998_counts_with_negative_counters_interpreted():
    """The seen-set once held hash(state), and hash(-1) == hash(-2): states differing only by -1/-2 were merged
    (20,098 states, not 20,870)."""
    r = ewd998_counter2("interpreted")
    assert (r.status, r.distinct_states) == ("ok", 20870)


def test_the_correct_specs_pass_the_variants_configurations():
    for name, _, params, prop in BROKEN:
        r = check(spec_class(name)(params).compile(), progress=False)
        assert r.status == "ok", name
        assert r.properties[prop] == "holds"


def test_initial_states_satisfy_the_refined_specs_init():
    """The Init halves of the refinement properties (the step halves are transition properties)."""
    ewd998 = spec_class("ewd998")({"n": 3})
    assert all(ewd998.ewd998_init(ewd998.mapped(s)) for s in ewd998.init())
    ewd840 = spec_class("ewd840")({"n": 3})
    # SyncTerminationDetection!Init: terminationDetected \in {FALSE, terminated}
    for s in ewd840.init():
        assert ewd840.terminationDetected(s) in (False, ewd840.terminated(s.active))


def test_initial_state_counts():
    assert len(list(spec_class("ewd840")({"n": 3}).init())) == 2 ** 3 * 2 ** 3 * 3
    assert len(list(spec_class("ewd998")({"n": 3}).init())) == 2 ** 3
