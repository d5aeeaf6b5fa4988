"""Re-executing a counterexample by action values, as every protocol's tests do."""


def replay_states(model, trace) -> list:
    """The states ``model.apply`` reaches from ``trace.initial`` by the trace's actions,
    each asserted equal to the recorded one; the initial state must be a model initial state."""
    state = trace.initial
    assert state in model.initial_states()
    states = [state]
    for act, recorded in trace.steps:
        state = model.apply(state, act)
        assert state == recorded
        states.append(state)
    return states


def replays(model, trace):
    """The last state of ``trace``, reached by re-executing it (see ``replay_states``)."""
    return replay_states(model, trace)[-1]
