"""Safra's termination detection (EWD 998), PlusCal version, transcribed from the TLA+ Examples.

Source: ``specifications/ewd998/EWD998PCal.tla`` (the TLA+ translation of its
PlusCal algorithm) and ``EWD998PCal.cfg`` in the TLA+ Examples repository
(github tlaplus/Examples); the property refers to ``EWD998.tla`` there.

Nodes ``0..N-1`` send payload messages, count sent minus received messages
in ``counter``, and pass a token (carrying a sum ``q`` and a colour) from
node N-1 down to the initiator 0.  Variables: ``network`` (per node, a bag of
messages), ``active``, ``color``, ``counter``.  A bag is a frozenset of
``(message, multiplicity)`` pairs.  The process ``node(self)`` has five
alternatives, each an action with the process as argument ``i``:
``SendMsg(i, to)`` (the PlusCal ``with (to \\in Node \\ {self})`` is the
argument ``to``), ``RecvMsg(i)``, ``Deactivate(i)``, ``PassToken(i)``,
``InitiateToken(i)``.  ``RecvMsg``'s ``with (msg \\in pendingMsgs(...))`` can
only pick the one payload message, so it takes no argument.  The token
alternatives' ``with (tok \\in pendingMsgs(...))`` ranges over tokens that
depend on the state (their ``q`` is unbounded a priori), which an argument
domain cannot express: the action looks the token up in the bag, and raises
if a bag ever held two tokens (it never does: there is one token).
``Init`` lets ``active`` take every value: ``2^N`` initial states.

Constants (``EWD998PCal.cfg``): ``N = 3``, parameter ``n``; the cfg has no
invariant and ``PROPERTIES EWD998Spec``: the refinement mapping
(``token``, ``pending`` as the module defines them) implements
``EWD998!Init /\\ [][EWD998!Next]_EWD998!vars``.  Its step part is the
transition property ``EWD998Spec_step``; its ``Init`` part is asserted in the
tests.  Added, not in the cfg: ``TerminationDetection`` of EWD998.tla on the
mapped state (implied by the refinement).  TLC checks deadlock here (the cfg
does not turn it off); there is none for TLC, but see below.

State constraint ``StateConstraint`` (``\\A i : counter[i] < 3``): the
framework has none, so every action returns ``None`` where its next state
breaks the constraint (only ``SendMsg`` raises a counter).  TLC neither counts
nor expands a successor outside the constraint, so the counts agree.  Where
this may diverge from TLC:

- TLC still evaluates invariants on a successor outside the constraint
  (measured with TLC 2.15), and it checks the implied action property on the
  step to it; here that state and that step are never generated.  The
  properties here hold on those steps too (``SendMsg`` is a step of EWD998's
  ``SendMsg`` whatever the counter), so no verdict changes.
- TLC's deadlock check counts the discarded successor; here a state whose
  only steps leave the constraint has none.  ``Deactivate`` (always enabled in
  the PlusCal version) keeps every state live, so no deadlock appears either way.

Distinct states: TLC 321,370 (manifest, EWD998PCal.cfg, N = 3); ours 321,370
with the compiled search (invariant only) and with a plain BFS of this state
machine, but 294,726 with the interpreted search (see the caveat below).
Small configuration ``n=2``: TLC 2,360 (TLC 2.15 run on EWD998PCal.tla with
N = 2); ours 2,360.  ``n=3, max_counter=2`` (the constraint ``counter[i] < 2``):
TLC 20,870; ours 20,870.

Counting caveat: the interpreted search keys its seen-set on Python's
``hash()`` of the state, and ``hash(-1) == hash(-2)`` in CPython, so states
that differ only by a -1 where the other has a -2 (counters, token sums) are
taken for one state.  It reports 294,726 instead of 321,370 on the cfg and
20,098 instead of 20,870 for ``counter2``, with status ``ok``.  The compiled
search (which cannot take the transition property: use ``--scenario
counter2`` or ``--property TerminationDetection``) and a plain BFS over a
``set`` of states (``benchmarks/ewd998_plain_bfs.py``) give TLC's counts.

Variant ``no-counter``: a node passes the token on without adding its counter
to ``q``; the mapped step is no step of EWD998 (and termination would be
detected with messages in flight).
"""

from __future__ import annotations

from itertools import product
from typing import NamedTuple

from consensuslab import (
    ModelError, Param, Scenario, Spec, action, always, always_step, message, record, replace_at, sometimes,
)


@message
class Payload:
    pass


@message
class Token:
    q: int
    color: str


PL = Payload()


@record
class EWD998PCalState(NamedTuple):
    network: tuple  # network[i]: bag of messages at node i, frozenset of (message, count)
    active: tuple
    color: tuple
    counter: tuple


class EWD998Vars(NamedTuple):
    """The variables of EWD998.tla, as the refinement mapping computes them."""
    active: tuple
    color: tuple
    counter: tuple
    pending: tuple
    token: tuple  # (pos, q, color)


# -- bags (TLA+'s Bags and BagsExt) --------------------------------------------------------
def bag_add(bag, m):
    d = dict(bag)
    d[m] = d.get(m, 0) + 1
    return frozenset(d.items())


def bag_remove(bag, m):
    d = dict(bag)
    if m in d:
        if d[m] == 1:
            del d[m]
        else:
            d[m] -= 1
    return frozenset(d.items())


def bag_domain(bag):
    return [m for m, _ in bag]


class EWD998PCal(Spec):
    name = "ewd998"
    summary = "Safra's termination detection, EWD998PCal.tla (TLA+ Examples)"
    params = {
        "n": Param(3, "number of nodes", min=1, max=6),
        "max_counter": Param(3, "state constraint: every counter stays < max_counter", min=1, max=10),
    }
    variants = {"no-counter": "PassToken does not add the node's counter to the token"}
    scenarios = (
        Scenario("small", "N = 2 (TLC: 2,360)", {"n": 2}, states=2360),
        Scenario("cfg", "EWD998PCal.cfg: N = 3 (TLC: 321,370)", {"n": 3}, states=321370),
        Scenario("counter2", "N = 3, counters < 2, invariant only (TLC: 20,870)", {"n": 3, "max_counter": 2},
                 states=20870, properties=("TerminationDetection", "detected")),
        Scenario("no-counter", "the token forgets a counter", {"n": 2}, variant="no-counter",
                 expect="violation", expect_property="EWD998Spec_step"),
    )

    def setup(self):
        self.Node = tuple(range(self.n))
        self.Initiator = 0

    def init(self):
        network = tuple(frozenset({(Token(0, "black"), 1)}) if i == self.Initiator else frozenset()
                        for i in self.Node)
        for active in product((False, True), repeat=self.n):
            yield EWD998PCalState(network, active, ("black",) * self.n, (0,) * self.n)

    # -- the state constraint, emulated --------------------------------------------------
    def StateConstraint(self, s):
        return all(c < self.max_counter for c in s.counter)

    def within(self, s):
        return s if self.StateConstraint(s) else None

    # -- network helpers (the module's define block) ---------------------------------------
    def pass_msg(self, net, frm, old, to, new):
        net = replace_at(net, frm, bag_remove(net[frm], old))
        return replace_at(net, to, bag_add(net[to], new))

    def token_at(self, s, i):
        """The token in node i's bag, or None."""
        toks = [m for m in bag_domain(s.network[i]) if isinstance(m, Token)]
        if len(toks) > 1:
            raise ModelError("two tokens in one bag: the action would have two next states")
        return toks[0] if toks else None

    # -- the process node(i) ---------------------------------------------------------------
    @action(i="Node", to="Node")
    def SendMsg(self, s, i, to):
        if s.active[i] and to != i:
            return self.within(s._replace(network=replace_at(s.network, to, bag_add(s.network[to], PL)),
                                          counter=replace_at(s.counter, i, s.counter[i] + 1)))

    @action(i="Node")
    def RecvMsg(self, s, i):
        if PL in bag_domain(s.network[i]):
            return self.within(EWD998PCalState(replace_at(s.network, i, bag_remove(s.network[i], PL)),
                                               replace_at(s.active, i, True),
                                               replace_at(s.color, i, "black"),
                                               replace_at(s.counter, i, s.counter[i] - 1)))

    @action(i="Node")
    def Deactivate(self, s, i):
        return self.within(s._replace(active=replace_at(s.active, i, False)))

    @action(i="Node")
    def PassToken(self, s, i):
        if i == self.Initiator:
            return None
        tok = self.token_at(s, i)
        if tok is None or s.active[i]:
            return None
        q = tok.q if self.variant == "no-counter" else tok.q + s.counter[i]
        new = Token(q, "black" if s.color[i] == "black" else tok.color)
        return self.within(s._replace(network=self.pass_msg(s.network, i, tok, i - 1, new),
                                      color=replace_at(s.color, i, "white")))

    @action(i="Node")
    def InitiateToken(self, s, i):
        if i != self.Initiator:
            return None
        tok = self.token_at(s, i)
        if tok is None:
            return None
        if s.color[i] == "black" or tok.q + s.counter[i] != 0 or tok.color == "black":
            return self.within(s._replace(network=self.pass_msg(s.network, i, tok, self.n - 1, Token(0, "white")),
                                          color=replace_at(s.color, i, "white")))

    # -- the refinement mapping to EWD998.tla ---------------------------------------------------
    def mapped(self, s):
        pos = next(i for i in self.Node if self.token_at(s, i) is not None)
        tok = self.token_at(s, pos)
        pending = tuple(dict(s.network[i]).get(PL, 0) for i in self.Node)
        return EWD998Vars(s.active, s.color, s.counter, pending, (pos, tok.q, tok.color))

    def ewd998_init(self, m):
        return m.counter == (0,) * self.n and m.pending == (0,) * self.n and m.token[1:] == (0, "black")

    def ewd998_next(self, m):
        """Every EWD998!Next successor of the mapped state m."""
        out = []
        pos, q, tcolor = m.token
        if pos == 0 and (tcolor == "black" or m.color[0] == "black" or m.counter[0] + q > 0):  # InitiateProbe
            out.append(m._replace(token=(self.n - 1, 0, "white"), color=replace_at(m.color, 0, "white")))
        for i in self.Node:
            if i != 0 and not m.active[i] and pos == i:  # PassToken(i)
                out.append(m._replace(token=(pos - 1, q + m.counter[i],
                                             "black" if m.color[i] == "black" else tcolor),
                                      color=replace_at(m.color, i, "white")))
            if m.active[i]:  # SendMsg(i)
                for j in self.Node:
                    if j != i:
                        out.append(m._replace(counter=replace_at(m.counter, i, m.counter[i] + 1),
                                              pending=replace_at(m.pending, j, m.pending[j] + 1)))
            if m.pending[i] > 0:  # RecvMsg(i)
                out.append(EWD998Vars(replace_at(m.active, i, True), replace_at(m.color, i, "black"),
                                      replace_at(m.counter, i, m.counter[i] - 1),
                                      replace_at(m.pending, i, m.pending[i] - 1), m.token))
            if m.active[i]:  # Deactivate(i)
                out.append(m._replace(active=replace_at(m.active, i, False)))
        return out

    # -- properties -----------------------------------------------------------------------
    @always_step
    def EWD998Spec_step(self, s, act, t):
        """[][EWD998!Next]_EWD998!vars under the refinement mapping."""
        before, after = self.mapped(s), self.mapped(t)
        return after == before or after in self.ewd998_next(before)

    @always
    def TerminationDetection(self, s):
        """EWD998!TerminationDetection on the mapped state."""
        m = self.mapped(s)
        pos, q, tcolor = m.token
        detected = pos == 0 and tcolor == "white" and q + m.counter[0] == 0 and m.color[0] == "white" \
            and not m.active[0]
        return not detected or (not any(m.active) and sum(m.pending) == 0)

    @sometimes
    def detected(self, s):
        m = self.mapped(s)
        pos, q, tcolor = m.token
        return pos == 0 and tcolor == "white" and q + m.counter[0] == 0 and m.color[0] == "white" \
            and not m.active[0]
