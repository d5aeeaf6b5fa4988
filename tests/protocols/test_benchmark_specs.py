"""The TLA+ Examples transcribed under benchmarks/specs/: TLC's counts on small models, broken variants caught.

Each count is TLC's distinct-state count for the same constants: from the TLA+
Examples' manifest where it records one (EWD840 with N = 3 and N = 4), else
from a TLC run on the original module with the constants given (see each
file's docstring).  The manifest's own configurations (50,000 to 1.4 million
states) are the benchmarks, too slow for the test suite.
"""


import pytest

from consensuslab import action, check
from consensuslab.checkers.replay import replay_document
from consensuslab.traces.itf import trace_document

from benchmark_specs import BROKEN, COMPILED, SMALL, spec_class
from orbits import count_orbits, reachable
from replaying import replay_states


@pytest.mark.parametrize("name,params,tlc", SMALL, ids=[f"{n}-{'-'.join(f'{k}{v}' for k, v in p.items())}"
                                                         for n, p, _ in SMALL])
def test_distinct_states_equal_tlc(name, params, tlc):
    r = check(spec_class(name)(params).compile(), progress=False, engine="interpreted")
    assert r.status == "ok"
    assert r.distinct_states == tlc
    assert all(v in ("holds", "witnessed") for v in r.properties.values()), r.properties


@pytest.mark.parametrize("name,scenario,tlc", COMPILED, ids=[c[0] for c in COMPILED])
def test_distinct_states_equal_tlc_on_the_compiled_engine(name, scenario, tlc):
    r = check(spec_class(name).configure(scenario=scenario).compile(), progress=False, engine="compiled")
    assert (r.extra["engine"], r.status, r.distinct_states) == ("compiled", "ok", tlc)
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


def ewd998_table_only():
    """EWD998PCal with the token looked up by hand instead of a domain that reads the state, so that every
    action is a row of the action table and the compiled engine runs it (the constraint included)."""
    cls = spec_class("ewd998")

    class TableOnly(cls):
        name = "ewd998-table-only"

        def token_at(self, s, i):
            tokens = self.tokens(s, i)
            assert len(tokens) <= 1, "one token"
            return tokens[0] if tokens else None

        @action(i="Node", by="i")
        def PassToken(self, s, i):
            tok = self.token_at(s, i)
            return None if tok is None else cls.PassToken(self, s, i, tok)

        @action(i="Node", by="i")
        def InitiateToken(self, s, i):
            tok = self.token_at(s, i)
            return None if tok is None else cls.InitiateToken(self, s, i, tok)

    return TableOnly


def ewd998_counter2(engine):
    cls = ewd998_table_only() if engine == "compiled" else spec_class("ewd998")
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


def test_a_declared_constraint_runs_in_the_compiled_engine_too():
    r = check(spec_class("lamport_mutex")({"n": 2, "max_clock": 4}).compile(), engine="compiled", progress=False)
    assert (r.extra["engine"], r.status, r.distinct_states) == ("compiled", "ok", 401)


def test_lamport_mutex_checks_deadlock_as_tlc():
    """TLC checks deadlock on MCLamportMutex and finds none: states whose only steps raise a clock past maxClock
    are not deadlocks.  Guarding every action with the constraint (the old transcription) made them deadlocks."""
    cls = spec_class("lamport_mutex")
    model = cls.configure(scenario="tiny").compile()
    assert model.check_deadlock
    edge = [s for s in _reachable(model) if not model.successors(s)]
    assert edge and all(model.is_done(s) for s in edge)
    assert check(model, progress=False).status == "ok"


def _reachable(model):
    seen, todo = set(model.initial_states()), list(model.initial_states())
    while todo:
        for _, t in model.successors(todo.pop()):
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def test_ewd998_liveness_under_per_process_fairness():
    """EWD998!Liveness (Termination ~> terminationDetected) under \\A self : WF_vars(node(self)): TLC 2.15 on N = 2
    with the constraint: no error.  Without the fairness a behaviour may stop before the token comes round."""
    cls = spec_class("ewd998")
    r = check(cls.configure(scenario="liveness").compile(), progress=False)
    assert (r.status, r.distinct_states, r.properties["Liveness"]) == ("ok", 2360, "holds")

    class Unfair(cls):
        name = "ewd998-unfair"
        fairness = ()

    model = Unfair.configure(scenario="liveness").compile()
    r = check(model, progress=False)
    assert r.properties["Liveness"] == "violated"
    from consensuslab.checkers.liveness.check import confirm_lasso
    confirm_lasso(Unfair.configure(scenario="liveness").compile(), r.violation.trace, "Liveness")


def test_the_correct_specs_pass_the_variants_configurations():
    for name, _, params, prop in BROKEN:
        r = check(spec_class(name)(params).compile(), progress=False)
        assert r.status == "ok", name
        assert r.properties[prop] == "holds"


def test_initial_states_satisfy_the_refined_specs_init():
    """The Init halves of the refinement properties (the step halves are transition properties)."""
    r = check(spec_class("ewd998")({"n": 2}).compile(), progress=False)
    assert r.properties["EWD998Spec_init"] == r.properties["EWD998Spec_step"] == "holds"
    ewd840 = spec_class("ewd840")({"n": 3})
    # SyncTerminationDetection!Init: terminationDetected \in {FALSE, terminated}
    for s in ewd840.init():
        assert ewd840.terminationDetected(s) in (False, ewd840.terminated(s.active))


def test_initial_state_counts():
    assert len(list(spec_class("ewd840")({"n": 3}).init())) == 2 ** 3 * 2 ** 3 * 3
    assert len(list(spec_class("ewd998")({"n": 3}).init())) == 2 ** 3


def test_lamport_mutex_compiled_reads_two_channels_per_receive():
    """``network[q][p]`` is a grid cell: ReceiveRequest's key is two channels and a clock, the constraint is a
    filter of its own, and the counts are TLC's (N = 3, maxClock = 3: 10,209)."""
    from consensuslab.checkers.compiled.engine import CompiledSearch

    search = CompiledSearch(spec_class("lamport_mutex").configure(scenario="small").compile(), progress=False,
                            insist=True)
    r = search.run()
    assert (r.status, r.distinct_states) == ("ok", 10209)
    network, clock = search.layout.by_name["network"], search.layout.by_name["clock"]
    receive = next(u for u in search.actions if str(u.label) == "ReceiveRequest(1, 2)")
    assert receive.mask == network.slot_bits(1 * 3 + 0) | network.slot_bits(0 * 3 + 1) | clock.slot_bits(0)


def test_ewd998_refinement_steps_mapped_once_per_state_count_as_tlc():
    """The refinement mapping reads every bag: its step property is judged by mapping each packed state once
    (``refinement_steps.py``), and the counts stay TLC's (N = 2: 2,360) and the interpreted engine's."""
    cls = spec_class("ewd998")
    compiled = check(cls.configure(scenario="small").compile(), engine="compiled", progress=False)
    interpreted = check(cls.configure(scenario="small").compile(), engine="interpreted", progress=False)
    assert "EWD998Spec_step (mapped once per state)" in compiled.extra["compiled"]["direct_pieces"]
    assert (compiled.status, compiled.distinct_states, compiled.states_generated) == \
        ("ok", 2360, interpreted.states_generated)
    broken = [check(cls.configure(scenario="no-counter").compile(), engine=engine, progress=False)
              for engine in ("compiled", "interpreted")]
    assert broken[0].extra["engine"] == "compiled"
    assert [(r.violation.property, r.violation.trace.states) for r in broken][0] == \
        [(r.violation.property, r.violation.trace.states) for r in broken][1]


def test_readers_writers_liveness_holds_under_its_fairness_and_fails_without_stop_s():
    """TLC 2.20 checks MC.cfg's Liveness with NumActors = 2 and finds no error; without weak fairness of Stop a
    reader may read forever, and no actor writes again."""
    cls = spec_class("readers_writers")
    fair = check(cls.configure(scenario="live").compile(), progress=False)
    assert fair.status == "ok" and set(fair.properties.values()) == {"holds"} and len(fair.properties) == 6

    class StopUnfair(cls):
        fairness = tuple(f for f in cls.fairness if f.name != "Stop")

    unfair = check(StopUnfair.configure(scenario="live").compile(), progress=False)
    assert unfair.status == "violation" and unfair.violation.kind == "liveness"
    assert unfair.violation.trace.loop is not None  # a lasso: the reader that never stops


def test_fast_paxos_symmetry_counts_the_orbits_of_every_reachable_state():
    """FastPaxos.cfg's count (25,617) is under its SYMMETRY, the orbits TLC explores; here a smaller model's
    ``--symmetry`` count equals the orbits of every reachable state, counted with the spec's own ``permute``
    under every renaming of the replicas and the values, and the engines agree without symmetry."""
    cls = spec_class("fast_paxos")
    params = {"replicas": 3, "values": 2, "ballots": 4, "fast": 2}
    seen = reachable(cls(params).compile())
    reduced = check(cls(params).compile(), progress=False, symmetry=True)
    assert reduced.status == "ok" and reduced.distinct_states == count_orbits(cls(params), seen) < len(seen)
    for engine in ("interpreted", "compiled"):
        assert check(cls(params).compile(), progress=False, engine=engine).distinct_states == len(seen)


def test_classic_paxos_symmetry_gives_tlcs_count_and_the_orbits_of_every_reachable_state():
    """Paxos.cfg's count (1,207, TLC's manifest) is under its SYMMETRY; on a smaller model the ``--symmetry``
    count equals the orbits of every reachable state under the spec's own ``permute`` (every renaming)."""
    cls = spec_class("classic_paxos")
    cfg = check(cls.configure({}, None, "cfg").compile(), progress=False, symmetry=True)
    assert cfg.status == "ok" and cfg.distinct_states == 1207
    params = {"replicas": 3, "values": 2, "ballots": 3}
    seen = reachable(cls(params).compile())
    reduced = check(cls(params).compile(), progress=False, symmetry=True)
    assert reduced.status == "ok" and reduced.distinct_states == count_orbits(cls(params), seen) < len(seen)


def test_classic_paxos_as_the_spec_writes_it_compiles_with_narrow_reads():
    """``\\E a \\in Replicas, m \\in p2aMessages`` is a domain read from the state, and ``M == {m \\in
    p1bMessages : ...}`` a static helper: each row reads its message's bit and each helper only the messages its
    filter keeps, so the memo misses on fewer calls than there are states (268,018 traced calls for these 6,353
    when every row's domain and every helper read the whole message set)."""
    cls = spec_class("classic_paxos")
    params = {"replicas": 3, "values": 2, "ballots": 3}
    compiled = check(cls(params).compile(), progress=False, engine="compiled")
    interpreted = check(cls(params).compile(), progress=False, engine="interpreted")
    assert (compiled.status, compiled.distinct_states, compiled.states_generated) == \
        (interpreted.status, interpreted.distinct_states, interpreted.states_generated)
    assert compiled.status == "ok" and compiled.distinct_states == 6353
    assert compiled.extra["compiled"]["traced_calls"] < compiled.distinct_states
