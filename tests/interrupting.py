"""A model that sends this process SIGINT from inside the search, as Ctrl-C would: for tests of
interrupted runs."""


def interrupting(model, at: tuple[int, ...]):
    """``model`` whose successors() sends this process SIGINT on the given calls (as Ctrl-C would)."""
    import signal

    successors, calls = model.successors, [0]

    def wrapped(state):
        calls[0] += 1
        if calls[0] in at:
            signal.raise_signal(signal.SIGINT)
        return successors(state)

    model.successors = wrapped
    return model
