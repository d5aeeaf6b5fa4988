"""A user's mapping, as a user would write it: an implementation of two-phase commit logs in its own words.

Its log: ``start`` (a node's first state), ``vote`` (an RM prepares and tells the
TM), ``recv`` (a message arrives; ``msg.type`` PREPARED, COMMIT or ABORT), and
``decide`` (the TM decides).  States: an RM's ``phase``, the TM's ``decision``
and ``votes``, all in capitals.
"""

from consensuslab import Action, Expect, Mapping
from consensuslab.protocols.two_phase_actors import Abort, Commit, Prepared

MESSAGES = {"PREPARED": Prepared(), "COMMIT": Commit(), "ABORT": Abort()}
HANDLERS = {"PREPARED": "tm_on_prepared", "COMMIT": "rm_on_commit", "ABORT": "rm_on_abort"}


class TwoPhaseLogMapping(Mapping):
    protocol = "two-phase-actors"
    params = {"rm": 2}

    def expectations(self, model, node, events):
        for e in events:
            fields = tuple(sorted((e.state or {}).items()))
            if e.kind == "start":
                yield Expect(node, e.ref, None, fields=fields)
            elif e.kind == "vote":
                yield Expect(node, e.ref, frozenset({Action("local", "rm_prepare", node, ())}), fields=fields)
            elif e.kind == "recv":
                kind = e.msg["type"]
                step = Action("deliver", HANDLERS[kind], node, (e.msg["from"], MESSAGES[kind]))
                yield Expect(node, e.ref, frozenset({step}), fields=fields)
            elif e.kind == "decide":
                name = "tm_commit" if e.msg["decision"] == "COMMIT" else "tm_abort"
                yield Expect(node, e.ref, frozenset({Action("local", name, node, ())}), fields=fields)

    def observe(self, model, node, name, before, action, after):
        local = after.locals[model.index[node]]
        if name == "phase":
            return local.phase.upper()
        if name == "decision":
            return {"init": None, "committed": "COMMIT", "aborted": "ABORT"}[local.phase]
        if name == "votes":
            return sorted(local.prepared)
        raise KeyError(name)
