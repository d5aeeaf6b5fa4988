"""Safra's termination detection (EWD 998), PlusCal version, transcribed from the TLA+ Examples.

Source: ``specifications/ewd998/EWD998PCal.tla`` (the TLA+ translation of its
PlusCal algorithm) and ``EWD998PCal.cfg`` in the TLA+ Examples repository
(github tlaplus/Examples); the abstract spec is ``EWD998.tla`` there.

Nodes ``0..N-1`` send payload messages, count sent minus received messages
in ``counter``, and pass a token (carrying a sum ``q`` and a colour) from
node N-1 down to the initiator 0.  Variables: ``network`` (per node, a bag of
messages), ``active``, ``color``, ``counter``.  A bag is a frozenset of
``(message, multiplicity)`` pairs.  The process ``node(self)`` has five
alternatives, each an action of the process ``i`` (``by="i"``), with the
``UNCHANGED`` clauses of the translation:

- ``SendMsg(i, to)``: the PlusCal ``with (to \\in Node \\ {self})`` is the
  argument ``to``, whose domain is a function of ``i``;
- ``RecvMsg(i)``: ``with (msg \\in pendingMsgs(...))`` can only pick the one
  payload message value, so it takes no argument;
- ``Deactivate(i)`` (``active' = FALSE``, enabled on an inactive node too: a
  stuttering step, which owes and pays no fairness);
- ``PassToken(i, tok)`` and ``InitiateToken(i, tok)``: ``with (tok \\in
  pendingMsgs(network, self))`` is the argument ``tok``, ranging over the
  tokens in node ``i``'s bag, a domain that reads the state.

``Init`` lets ``active`` take every value: ``2^N`` initial states.

Constants (``EWD998PCal.cfg``): ``N = 3``, parameter ``n``; ``CONSTRAINT
StateConstraint`` (``\\A i : counter[i] < 3``), a ``@constraint`` applied as TLC
applies it (a successor outside is neither counted nor expanded, but its
properties are checked; a state whose only steps leave it is no deadlock).
The cfg has no invariant and ``PROPERTIES EWD998Spec``: the refinement
mapping (``token``, ``pending`` as the module defines them) implements
``EWD998!Init /\\ [][EWD998!Next]_EWD998!vars``.  Here it is ``@refines(EWD998)``
on the mapping, which states ``EWD998Spec_init`` and ``EWD998Spec_step``; the
abstract ``EWD998`` below is EWD998.tla's actions, its ``SendMsg`` an action
with several next states (``\\E j \\in Node \\ {i}`` inside it).  Added, not in
the cfg: ``TerminationDetection`` of EWD998.tla on the mapped state (implied by
the refinement) and EWD998.tla's ``Liveness`` (``Termination ~>
terminationDetected``) under the PlusCal spec's fairness, ``\\A self \\in Node :
WF_vars(node(self))`` (``Fair("step", per="node")``); TLC 2.15 checks it on
N = 2 with the constraint: no error, 2,360 states.  TLC checks deadlock here
(the cfg does not turn it off); there is none.

Distinct states: TLC 321,370 (manifest, EWD998PCal.cfg, N = 3); ours 321,370.
Small configuration ``n=2``: TLC 2,360 (TLC 2.15 run on EWD998PCal.tla with
N = 2); ours 2,360.  ``n=3, max_counter=2`` (the constraint ``counter[i] <
2``): TLC 20,870; ours 20,870 (counters and token sums go negative: -1 and -2
must not be taken for one value).

Variant ``no-counter``: a node passes the token on without adding its counter
to ``q``; the mapped step is no step of EWD998 (and termination would be
detected with messages in flight).
"""

from __future__ import annotations

from itertools import product
from typing import NamedTuple

from consensuslab import (
    Fair, Param, Scenario, Spec, action, always, constraint, leads_to, message, record, refines, replace_at,
    sometimes,
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


# -- the abstract spec, EWD998.tla ------------------------------------------------------------
@record
class EWD998Vars(NamedTuple):
    """The variables of EWD998.tla."""
    active: tuple
    color: tuple
    counter: tuple
    pending: tuple
    token: tuple  # (pos, q, color)


class EWD998(Spec):
    """EWD998.tla's Init and Next (the target of the refinement; never explored, so unbounded)."""

    params = {"n": Param(3, "number of nodes", min=1)}

    def setup(self):
        self.Node = tuple(range(self.n))

    def init(self):
        for active, color, pos in product(product((False, True), repeat=self.n),
                                          product(("white", "black"), repeat=self.n), self.Node):
            yield EWD998Vars(active, color, (0,) * self.n, (0,) * self.n, (pos, 0, "black"))

    @action
    def InitiateProbe(self, m):
        pos, q, tcolor = m.token
        if pos == 0 and (tcolor == "black" or m.color[0] == "black" or m.counter[0] + q > 0):
            return m._replace(token=(self.n - 1, 0, "white"), color=replace_at(m.color, 0, "white"))

    @action(i=lambda self: self.Node[1:])
    def PassToken(self, m, i):
        pos, q, tcolor = m.token
        if not m.active[i] and pos == i:
            return m._replace(token=(pos - 1, q + m.counter[i], "black" if m.color[i] == "black" else tcolor),
                              color=replace_at(m.color, i, "white"))

    @action(i="Node")
    def SendMsg(self, m, i):
        """``\\E j \\in Node \\ {i} : pending' = [pending EXCEPT ![j] = @ + 1]``: one next state per j."""
        if m.active[i]:
            counter = replace_at(m.counter, i, m.counter[i] + 1)
            for j in self.Node:
                if j != i:
                    yield j, m._replace(counter=counter, pending=replace_at(m.pending, j, m.pending[j] + 1))

    @action(i="Node")
    def RecvMsg(self, m, i):
        if m.pending[i] > 0:
            return m._replace(pending=replace_at(m.pending, i, m.pending[i] - 1),
                              counter=replace_at(m.counter, i, m.counter[i] - 1),
                              color=replace_at(m.color, i, "black"), active=replace_at(m.active, i, True))

    @action(i="Node")
    def Deactivate(self, m, i):
        if m.active[i]:
            return m._replace(active=replace_at(m.active, i, False))


def detected(m) -> bool:
    """EWD998!terminationDetected on the variables of EWD998."""
    pos, q, tcolor = m.token
    return pos == 0 and tcolor == "white" and q + m.counter[0] == 0 and m.color[0] == "white" and not m.active[0]


def terminated(m) -> bool:
    """EWD998!Termination: no node active, no message in flight."""
    return not any(m.active) and sum(m.pending) == 0


# -- the PlusCal algorithm ---------------------------------------------------------------------
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
        Scenario("liveness", "N = 2: termination is detected, under WF(node(self)) (TLC: holds)", {"n": 2},
                 states=2360, properties=("TerminationDetection", "Liveness")),
        Scenario("no-counter", "the token forgets a counter", {"n": 2}, variant="no-counter",
                 expect="violation", expect_property="EWD998Spec_step"),
    )
    #: \A self \in Node : WF_vars(node(self))
    fairness = (Fair("step", per="node"),)

    def setup(self):
        self.Node = tuple(range(self.n))
        self.Initiator = 0

    def init(self):
        network = tuple(frozenset({(Token(0, "black"), 1)}) if i == self.Initiator else frozenset()
                        for i in self.Node)
        for active in product((False, True), repeat=self.n):
            yield EWD998PCalState(network, active, ("black",) * self.n, (0,) * self.n)

    @constraint
    def StateConstraint(self, s):
        return all(c < self.max_counter for c in s.counter)

    # -- the define block -------------------------------------------------------------------
    def pass_msg(self, net, frm, old, to, new):
        net = replace_at(net, frm, bag_remove(net[frm], old))
        return replace_at(net, to, bag_add(net[to], new))

    def tokens(self, s, i):
        """The tokens in node i's bag: ``{tok \\in pendingMsgs(network, i) : tok.type = "tok"}``."""
        return [m for m in bag_domain(s.network[i]) if isinstance(m, Token)]

    # -- the process node(i) -----------------------------------------------------------------
    @action(i="Node", to=lambda self, i: [j for j in self.Node if j != i], by="i", unchanged=("active", "color"))
    def SendMsg(self, s, i, to):
        if s.active[i]:
            return s._replace(network=replace_at(s.network, to, bag_add(s.network[to], PL)),
                              counter=replace_at(s.counter, i, s.counter[i] + 1))

    @action(i="Node", by="i", unchanged=())
    def RecvMsg(self, s, i):
        if PL in bag_domain(s.network[i]):
            return EWD998PCalState(replace_at(s.network, i, bag_remove(s.network[i], PL)),
                                   replace_at(s.active, i, True),
                                   replace_at(s.color, i, "black"),
                                   replace_at(s.counter, i, s.counter[i] - 1))

    @action(i="Node", by="i", unchanged=("network", "color", "counter"))
    def Deactivate(self, s, i):
        return s._replace(active=replace_at(s.active, i, False))

    @action(i="Node", tok=lambda self, s, i: self.tokens(s, i), by="i", unchanged=("active", "counter"))
    def PassToken(self, s, i, tok):
        if i != self.Initiator and not s.active[i]:
            q = tok.q if self.variant == "no-counter" else tok.q + s.counter[i]
            new = Token(q, "black" if s.color[i] == "black" else tok.color)
            return s._replace(network=self.pass_msg(s.network, i, tok, i - 1, new),
                              color=replace_at(s.color, i, "white"))

    @action(i="Node", tok=lambda self, s, i: self.tokens(s, i), by="i", unchanged=("active", "counter"))
    def InitiateToken(self, s, i, tok):
        if i == self.Initiator and (s.color[i] == "black" or tok.q + s.counter[i] != 0 or tok.color == "black"):
            return s._replace(network=self.pass_msg(s.network, i, tok, self.n - 1, Token(0, "white")),
                              color=replace_at(s.color, i, "white"))

    # -- the refinement mapping to EWD998.tla -------------------------------------------------
    @refines(EWD998, params=lambda self: {"n": self.n})
    def EWD998Spec(self, s):
        """EWD998!vars as ``token`` and ``pending`` compute them from the PlusCal variables."""
        pos = next(i for i in self.Node if self.tokens(s, i))
        tok = self.tokens(s, pos)[0]
        pending = tuple(dict(s.network[i]).get(PL, 0) for i in self.Node)
        return EWD998Vars(s.active, s.color, s.counter, pending, (pos, tok.q, tok.color))

    # -- properties -----------------------------------------------------------------------
    @always
    def TerminationDetection(self, s):
        """EWD998!TerminationDetection on the mapped state."""
        m = self.EWD998Spec(s)
        return not detected(m) or terminated(m)

    @sometimes
    def detected(self, s):
        return detected(self.EWD998Spec(s))

    def Termination(self, s):
        return terminated(self.EWD998Spec(s))

    @leads_to("Termination")
    def Liveness(self, s):
        """EWD998!Liveness: Termination ~> terminationDetected."""
        return detected(self.EWD998Spec(s))
