"""Two-phase commit written sans-IO, and the adapter that checks it against the model `two-phase-actors`.

The implementation is plain Python with its own message format (dicts): a
`Coordinator` collects yes votes and decides, `Participant`s vote and obey.
Every method returns the messages to send as (destination, message) pairs and
does no I/O, so a test can drive it step by step.

    consensuslab conform examples/implementations/two_phase.py:TwoPhaseAdapter        # conforms: exit 0
    consensuslab conform examples/implementations/two_phase.py:MajorityAdapter        # the planted bug: exit 12

`MajorityCoordinator` is the planted bug: it may commit once a majority of the
participants voted yes, instead of all of them.
"""

from consensuslab.protocols.two_phase_actors import Abort, Commit, Prepared
from consensuslab.testing import Adapter, NotEnabled


# -- the implementation -----------------------------------------------------------------------
class Coordinator:
    def __init__(self, participants):
        self.participants = tuple(participants)
        self.decision = None  # None, "commit" or "abort"
        self.yes = set()

    def on_message(self, src, msg):
        if msg["type"] == "prepared" and self.decision is None:
            self.yes.add(src)
        return []

    def can_commit(self):
        return self.decision is None and self.yes == set(self.participants)

    def commit(self):
        if not self.can_commit():
            raise NotEnabled("not every participant voted yes")
        self.decision = "commit"
        return [(p, {"type": "commit"}) for p in self.participants]

    def abort(self):
        if self.decision is not None:
            raise NotEnabled(f"already decided {self.decision}")
        self.decision = "abort"
        return [(p, {"type": "abort"}) for p in self.participants]


class MajorityCoordinator(Coordinator):
    """The planted bug: a majority of yes votes is taken for all of them."""

    def can_commit(self):
        return self.decision is None and len(self.yes) > len(self.participants) // 2


class Participant:
    def __init__(self, coordinator):
        self.coordinator = coordinator
        self.phase = "working"

    def prepare(self):
        if self.phase != "working":
            raise NotEnabled(self.phase)
        self.phase = "prepared"
        return [(self.coordinator, {"type": "prepared"})]

    def abort_alone(self):
        if self.phase != "working":
            raise NotEnabled(self.phase)
        self.phase = "aborted"
        return []

    def on_message(self, src, msg):
        self.phase = {"commit": "committed", "abort": "aborted"}[msg["type"]]
        return []


# -- the adapter: the model's terms <-> the implementation's ----------------------------------------
TO_IMPL = {Prepared(): {"type": "prepared"}, Commit(): {"type": "commit"}, Abort(): {"type": "abort"}}
TO_MODEL = {"prepared": Prepared(), "commit": Commit(), "abort": Abort()}
PHASE = {None: "init", "commit": "committed", "abort": "aborted"}


class TwoPhaseAdapter(Adapter):
    protocol = "two-phase-actors"
    params = {"rm": 3}
    coordinator = Coordinator

    def create(self, node, role):
        if role == "tm":
            return self.coordinator(self.topology["rm"])
        return Participant(self.topology["tm"][0])

    def deliver(self, impl, node, src, msg):
        return self.sends(impl.on_message(src, TO_IMPL[msg]))

    def local(self, impl, node, name, args):
        step = {"tm_commit": "commit", "tm_abort": "abort", "rm_prepare": "prepare",
                "rm_choose_to_abort": "abort_alone"}[name]
        return self.sends(getattr(impl, step)())

    def sends(self, out):
        return [(dst, TO_MODEL[msg["type"]]) for dst, msg in out]

    def expected(self, model_state, node):
        if node == "tm":
            return {"phase": model_state.phase, "prepared": model_state.prepared}
        return {"phase": model_state.phase}

    def observe(self, impl, node, names=None):
        if isinstance(impl, Coordinator):
            return {"phase": PHASE[impl.decision], "prepared": frozenset(impl.yes)}
        return {"phase": impl.phase}

    def enabled(self, impl, node):
        if isinstance(impl, Coordinator):
            return ({("tm_commit", ())} if impl.can_commit() else set()) | (
                {("tm_abort", ())} if impl.decision is None else set())
        return {("rm_prepare", ()), ("rm_choose_to_abort", ())} if impl.phase == "working" else set()


class MajorityAdapter(TwoPhaseAdapter):
    coordinator = MajorityCoordinator
