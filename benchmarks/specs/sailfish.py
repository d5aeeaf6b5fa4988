"""Sailfish, a DAG-based Byzantine consensus protocol, transcribed from the TLA+ Examples.

Source: ``specifications/dag-consensus/Sailfish.tla`` (Giuliano Losa; the TLA+
translation of its PlusCal algorithm, after Shrestha et al., "Sailfish:
Towards Improving the Latency of DAG-based BFT", S&P 2025), with
``BlockDag.tla``, ``Digraph.tla``, ``Utils.tla`` and the model
``TLCSailfish1.tla`` / ``TLCSailfish1.cfg`` in the TLA+ Examples repository
(github tlaplus/Examples).

Nodes build a DAG of vertices, one per node and round.  A correct node enters
round ``r`` once it has a quorum of round ``r-1`` vertices (all correct ones
after ``GST``), creates its vertex ``<<self, r>>`` with an edge to each of
them, and commits the leader vertex of round ``r-2`` once a quorum of the
vertices it references vote for it (have an edge to it): its log becomes the
DAG below that leader, linearized.  Before entering a round it checks that a
leader vertex of ``r-1`` it references either references the leader of
``r-2`` or comes with a quorum of vertices that do not (so the ``r-2`` leader
cannot commit elsewhere); the leader of ``r`` must reference the ``r-1``
leader or see such a no-vote quorum among the round-``r`` vertices.  The
Byzantine node may create a vertex for any round at any time, referencing any
quorum of the round below (reliable broadcast: no equivocation).

Variables as in the translation: ``vs`` (the vertices, pairs ``(node,
round)`` and the genesis vertex ``()``, TLA+'s ``<<>>``), ``es`` (the edges,
pairs ``(vertex, child)``), ``round`` and ``log`` (functions on the correct
nodes ``N \\ F``, here tuples indexed like ``self.Correct``).

Actions, as the module's ``Next == (\\E self \\in N \\ F : correctNode(self))
\\/ (\\E self \\in F : byzantineNode(self))``, with ``self`` as the argument
``n``:

- ``correctNode(n)``: round 0 starts round 1; otherwise ``\\E r \\in {r \\in R
  : r > round[self]} : \\E deliveredVertices \\in SUBSET {v \\in vs : Round(v)
  = r-1} : ...``, a generator that yields one next state per choice of ``r``
  and ``deliveredVertices`` satisfying the awaits;
- ``byzantineNode(n)``: ``\\E r \\in R``, and for ``r > 1`` ``\\E delivered
  \\in SUBSET {...}`` a quorum, a generator likewise;
- ``TLCSailfish1``'s ``TerminatingSpec`` adds ``Terminate == Done /\\
  UNCHANGED vars`` (every correct node in the last round), a stuttering step
  that keeps TLC from reporting the end as a deadlock: here the ``done`` hook
  (a state without successors that is ``Done`` is no deadlock).

The branches are not declared (no ``branches=``): each ``yield`` is a step.

``Linearize`` orders the vertices between two leaders with ``OrderSet``,
which appends ``CHOOSE e \\in S : TRUE`` last; TLC's ``CHOOSE`` takes the least
element of a finite set in its order of values (tuples by their elements,
model values ``n1 < n2 < n3``), so ``OrderSet`` lists a set in decreasing
order, as ``order_set`` does here (the count does not depend on it: an
increasing order gives 109,604 states too).

Constants (``TLCSailfish1.tla``): ``N = {n1, n2, n3}``, ``F = {n1}``, quorums
``{n1,n3}``, ``{n2,n3}``, ``{n1,n2,n3}``, blocking sets (unused by the
protocol) ``{n3}`` and its supersets, leader schedule ``<<n1, n2, n3>>``;
parameters ``R = 1..rounds`` (5) and ``GST`` (3).  ``CONSTRAINT
StateConstraint`` (``round[n] \\in 0..Max(R)``, true of every state: a
``@constraint``); invariants ``TypeOK``, ``Agreement`` and ``Liveness`` (a
state predicate: a correct node two rounds past a post-GST round led by a
correct node has that leader's vertex in its log); TLC checks deadlock.

Distinct states: TLC 109,604 (manifest, TLCSailfish1.cfg); ours 109,604.
Scenario ``small`` (``rounds=4``): ours 11,236, not from TLC (no TLC run
here).

Variant ``any-vote``: a correct node commits the leader of ``r-2`` as soon as
one of the vertices it references votes for it, not a quorum; the correct
nodes then commit the leaders of rounds 1 and 2 independently and their logs
disagree: ``Agreement`` fails after 9 steps (``rounds=4``, 912 states).
"""

from __future__ import annotations

from typing import NamedTuple

from consensuslab import Param, Scenario, Spec, action, always, constraint, record, replace_at, sometimes

GENESIS = ()  # <<>>


@record
class SailfishState(NamedTuple):
    vs: frozenset  # the DAG's vertices: (node, round) pairs and GENESIS
    es: frozenset  # the DAG's edges: (vertex, child) pairs
    round: tuple  # round[k]: the round of correct node Correct[k] (0: not started)
    log: tuple  # log[k]: the delivered log of Correct[k], a tuple of vertices


def subsets(items):
    """SUBSET items, as frozensets."""
    items = list(items)
    for mask in range(1 << len(items)):
        yield frozenset(x for b, x in enumerate(items) if mask >> b & 1)


class Sailfish(Spec):
    name = "sailfish"
    summary = "Sailfish DAG-based BFT consensus, Sailfish.tla (TLA+ Examples, dag-consensus)"
    params = {
        "rounds": Param(5, "R = 1..rounds", min=1, max=6),
        "gst": Param(3, "GST: the first synchronous round", min=1, max=7),
    }
    variants = {"any-vote": "commit the leader of r-2 on a single vote, not a quorum of votes"}
    scenarios = (
        Scenario("small", "R = 1..4, GST = 3 (ours: 11,236; no TLC run)", {"rounds": 4, "gst": 3}, states=11236),
        Scenario("cfg", "TLCSailfish1.cfg: 3 nodes, n1 Byzantine, R = 1..5, GST = 3 (TLC: 109,604)",
                 {"rounds": 5, "gst": 3}, states=109604),
        Scenario("any-vote", "a commit on one vote", {"rounds": 4, "gst": 3}, variant="any-vote",
                 expect="violation", expect_property="Agreement"),
    )

    def setup(self):
        self.N = ("n1", "n2", "n3")
        self.F = ("n1",)
        self.Correct = tuple(n for n in self.N if n not in self.F)  # N \ F
        self.R = tuple(range(1, self.rounds + 1))
        self.GST = self.gst
        self.quorums = {frozenset(q) for q in (("n1", "n3"), ("n2", "n3"), ("n1", "n2", "n3"))}
        self.LeaderSchedule = ("n1", "n2", "n3")
        self.index = {n: k for k, n in enumerate(self.Correct)}

    def init(self):
        yield SailfishState(vs=frozenset({GENESIS}), es=frozenset(), round=(0,) * len(self.Correct),
                            log=((),) * len(self.Correct))

    # -- constants and BlockDag / Digraph operators ---------------------------------------------
    def IsQuorum(self, Q):
        return frozenset(Q) in self.quorums

    def Leader(self, r):
        return self.LeaderSchedule[(r - 1) % len(self.N)]

    def LeaderVertex(self, r):
        return (self.Leader(r), r) if r > 0 else GENESIS

    @staticmethod
    def Node(v):
        return v[0]

    @staticmethod
    def Round(v):
        return 0 if v == GENESIS else v[1]

    def IsLeader(self, v):
        return self.LeaderVertex(self.Round(v)) == v

    @staticmethod
    def Children(es, v):
        return {c for (p, c) in es if p == v}

    def below(self, es, v):
        """Vertices(SubDag(dag, {v})): v and its descendants."""
        seen, todo = {v}, [v]
        while todo:
            for c in self.Children(es, todo.pop()):
                if c not in seen:
                    seen.add(c)
                    todo.append(c)
        return seen

    @staticmethod
    def order_set(S):
        """OrderSet(S): Append(OrderSet(S \\ {e}), e) with e the least element (TLC's CHOOSE)."""
        return tuple(sorted(S, reverse=True))

    def Linearize(self, es, l):
        """Linearize(dag, l), the sub-DAG below l being all that matters."""
        if l == GENESIS:
            return ()
        dag_of_l = self.below(es, l)
        r = self.Round(l)
        prev = max((v for v in dag_of_l if self.IsLeader(v) and self.Round(v) < r), key=self.Round)
        dag_of_prev = self.below(es, prev)
        remaining = dag_of_l - dag_of_prev
        return self.Linearize(es, prev) + self.order_set(remaining - {l}) + (l,)

    def NoLeaderVoteQuorum(self, s, r, vertices, add):
        no_vote = [v for v in vertices if self.LeaderVertex(r - 1) not in self.Children(s.es, v)]
        return self.IsQuorum({self.Node(v) for v in no_vote} | set(add))

    def of_round(self, s, r):
        return [v for v in s.vs if self.Round(v) == r]

    # -- process correctNode \in N \ F --------------------------------------------------------
    @action(n="Correct", by="n")
    def correctNode(self, s, n):
        k = self.index[n]
        if s.round[k] == 0:  # start the first round
            yield s._replace(round=replace_at(s.round, k, 1), vs=s.vs | {(n, 1)},
                             es=s.es | {((n, 1), GENESIS)})
            return
        for r in self.R:
            if r <= s.round[k]:
                continue
            for delivered in subsets(self.of_round(s, r - 1)):
                nodes = {self.Node(v) for v in delivered}
                if not self.IsQuorum(nodes):
                    continue
                if r >= self.GST and not set(self.Correct) <= nodes:
                    continue
                if self.LeaderVertex(r - 1) in delivered and not (
                        self.LeaderVertex(r - 2) in self.Children(s.es, self.LeaderVertex(r - 1))
                        or self.NoLeaderVoteQuorum(s, r - 1, delivered, ())):
                    continue
                if self.Leader(r) == n and not (
                        self.LeaderVertex(r - 1) in delivered
                        or self.NoLeaderVoteQuorum(s, r, self.of_round(s, r), (n,))):
                    continue
                new_v = (n, r)
                es = s.es | {(new_v, pv) for pv in delivered}
                log = s.log
                if r > 2:
                    leader = self.LeaderVertex(r - 2)
                    votes = {pv for pv in delivered if (pv, leader) in es}
                    voters = {self.Node(pv) for pv in votes}
                    if (voters if self.variant == "any-vote" else self.IsQuorum(voters)):
                        log = replace_at(log, k, self.Linearize(s.es, leader))
                yield SailfishState(vs=s.vs | {new_v}, es=es, round=replace_at(s.round, k, r), log=log)

    # -- process byzantineNode \in F ------------------------------------------------------------
    @action(n="F", by="n", fault=True, unchanged=("round", "log"))
    def byzantineNode(self, s, n):
        for r in self.R:
            new_v = (n, r)
            if new_v in s.vs:  # no equivocation
                continue
            if r == 1:
                yield s._replace(vs=s.vs | {new_v}, es=s.es | {(new_v, GENESIS)})
                continue
            for delivered in subsets(self.of_round(s, r - 1)):
                if self.IsQuorum({self.Node(v) for v in delivered}):
                    yield s._replace(vs=s.vs | {new_v}, es=s.es | {(new_v, pv) for pv in delivered})

    # -- TerminatingSpec: Done /\ UNCHANGED vars --------------------------------------------------
    def Done(self, s):
        return all(r == max(self.R) for r in s.round)

    def done(self, s):
        """Terminate: Done /\\ UNCHANGED vars, a stuttering step, so a Done state is no deadlock."""
        return self.Done(s)

    @constraint
    def StateConstraint(self, s):
        return all(0 <= r <= max(self.R) for r in s.round)

    # -- properties -------------------------------------------------------------------------------
    @always
    def TypeOK(self, s):
        for v in s.vs - {GENESIS}:
            if not (self.Node(v) in self.N and isinstance(self.Round(v), int) and self.Round(v) > 0):
                return False
            if any(self.Round(c) != self.Round(v) - 1 for c in self.Children(s.es, v)):
                return False
        return (all(len(e) == 2 and e[0] in s.vs and e[1] in s.vs for e in s.es)
                and all(isinstance(r, int) and r >= 0 for r in s.round))

    @staticmethod
    def Compatible(s1, s2):
        return all(a == b for a, b in zip(s1, s2))

    @always
    def Agreement(self, s):
        """The logs of the correct nodes are prefixes of one another."""
        return all(self.Compatible(a, b) for a in s.log for b in s.log)

    @always
    def Liveness(self, s):
        """After GST, a correct leader's vertex is in every log two rounds later."""
        for r in self.R:
            if r >= self.GST and self.Leader(r) not in self.F:
                for k in range(len(self.Correct)):
                    if s.round[k] >= r + 2 and self.LeaderVertex(r) not in s.log[k]:
                        return False
        return True

    @sometimes
    def something_committed(self, s):
        return any(len(log) > 1 for log in s.log)
