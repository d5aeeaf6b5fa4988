"""The walk both explorers share: stable numbers, back/forward, links by action label, properties, ITF."""

import pytest

from consensuslab.checkers.replay import replay_document
from consensuslab.errors import UsageError
from consensuslab.protocols import configure
from consensuslab.web.session import Exploration

NO_WAIT = ["RMChooseToAbort(r1)", "RMPrepare(r2)", "TMRcvPrepared(r2)", "TMCommit", "RMRcvCommitMsg(r2)"]


def two_phase(variant="no-wait"):
    return configure("two-phase", {"rm": 2}, variant).compile()


def test_numbers_stay_with_their_action():
    walk = Exploration(two_phase())
    first = {str(a): n for n, a, _ in walk.options()}
    walk.take(first["RMChooseToAbort(r1)"])
    after = {str(a): n for n, a, _ in walk.options()}
    assert after["RMPrepare(r2)"] == first["RMPrepare(r2)"] and "RMChooseToAbort(r1)" not in after
    with pytest.raises(UsageError, match="no action 1 here"):
        walk.take(first["RMChooseToAbort(r1)"])


def test_follow_labels_back_forward_and_the_violation_as_replayable_itf():
    model = two_phase()
    walk = Exploration(model)
    walk.follow(0, NO_WAIT)
    assert walk.step == 5 and walk.labels() == (0, NO_WAIT)
    verdicts = {name: verdict for name, _, verdict in walk.properties()}
    assert verdicts == {"TPTypeOK": "holds", "TCConsistent": "VIOLATED", "some_commit": "witnessed here"}
    v = walk.violation()
    assert (v.property, v.kind) == ("TCConsistent", "invariant")
    done = replay_document(walk.document(), model)
    assert done.exit_code == 12 and len(done.trace) == 5
    assert walk.back() and walk.step == 4 and walk.violation() is None
    assert walk.forward() and walk.step == 5 and not walk.forward()
    with pytest.raises(UsageError, match="step 2: 'TMCommit' is not enabled after step 1"):
        walk.follow(0, ["RMPrepare(r1)", "TMCommit"])


def test_random_steps_repeat_with_the_seed_and_stop_at_a_dead_end():
    runs = []
    for seed in (3, 3, 4):
        walk = Exploration(two_phase(None), seed=seed)
        taken = walk.random_steps(50)
        runs.append(walk.labels()[1])
        assert taken == walk.step and not walk.options() or walk.step == 50
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_several_initial_states_are_picked_first():
    model = configure("byzantine-generals", {}, None, "n3m1").compile()
    walk = Exploration(model)
    assert walk.path == [] and len(walk.options()) == len(model.initial_states()) > 1
    walk.follow(2, [])
    assert walk.state == model.initial_states()[2] and walk.labels() == (2, [])
