"""For tests of interrupted runs: a model that sends this process SIGINT from inside the search, as Ctrl-C
would, and the processes a run leaves behind."""


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


def children(pid: int) -> list[int]:
    """The processes ``pid`` started that are still its children (Linux /proc; empty elsewhere)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, waiting to be reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"  # after the name, which may hold spaces
    except OSError:
        return False
