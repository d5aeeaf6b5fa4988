"""Single-decree Paxos, transcribed from Lamport's Paxos.tla (TLA+ Examples, specifications/Paxos).

The algorithm without explicit leaders or learners.  Acceptors keep
``maxBal`` (the highest ballot they promised), and ``<<maxVBal, maxVal>>``,
their vote with the highest ballot (``<<-1, None>>`` before any vote).
Every message ever sent stays in ``msgs``; receiving is enabled by existence,
so loss, duplication and reordering need no modelling.

Transcription notes, so that distinct-state counts equal TLC's:

- ``Ballot`` is ``0..ballots-1`` (MCPaxos's ``MCBallot``), ``-1`` means "no
  ballot" and ``None`` (a TLA+ model value, Python's ``None``) "no value".
- ``Phase1b(a)`` and ``Phase2b(a)`` pick a message with ``\\E m \\in msgs``;
  here ``m`` is an action argument ranging over the 1a (resp. 2a) messages of
  the universe, and the guard requires ``m \\in msgs``.
- ``Quorum`` is the set of all ``q``-subsets of the acceptors, ``q`` a majority
  by default, as MCPaxos's ``{{a1, a2}, {a1, a3}, {a2, a3}}``.
- ``Inv`` is the spec's inductive invariant, including ``V!Inv`` and
  ``V!ShowsSafeAt`` from Voting.tla, with ``votes`` defined from the 2b
  messages as the refinement mapping does.

TLC reports 25 distinct states for MCPaxos.cfg (1 acceptor, 1 value,
ballots 0..1; TLA+ Examples manifest).
"""

from __future__ import annotations

from itertools import combinations
from typing import NamedTuple

from consensuslab.errors import UsageError
from consensuslab.models.messages import Channel, Participants
from consensuslab.models.params import Param
from consensuslab.models.properties import always, sometimes
from consensuslab.models.records import message, record, replace_at
from consensuslab.models.scenario import Scenario
from consensuslab.models.spec import Spec, action

# The TLA+ spec's "None == CHOOSE v : v \notin Ballot": not a value, not a ballot.
NONE = None


# -- messages ---------------------------------------------------------------
@message
class Msg1a:
    bal: int


@message
class Msg1b:
    acc: str
    bal: int
    mbal: int  # Ballot \cup {-1}
    mval: str | None  # Value \cup {None}


@message
class Msg2a:
    bal: int
    val: str


@message
class Msg2b:
    acc: str
    bal: int
    val: str


# -- state --------------------------------------------------------------------
@record
class PaxosState(NamedTuple):
    maxBal: tuple  # per acceptor, Ballot \cup {-1}
    maxVBal: tuple  # <<maxVBal[a], maxVal[a]>> is a's vote with the largest ballot,
    maxVal: tuple  # <<-1, None>> if a has not voted
    msgs: frozenset


def quorum_size(n: int, quorum: int, variant: str | None) -> int:
    """The size of a quorum: ``quorum`` when given, else floor(n/2) (minority variant) or a majority."""
    if quorum:
        if quorum > n:
            raise UsageError(f"parameter quorum={quorum}: larger than the {n} acceptors")
        return quorum
    if variant == "minority-quorum":
        return max(1, n // 2)
    return n // 2 + 1


def describe_quorums(n: int, q: int) -> dict:
    return {"kind": "majority" if q == n // 2 + 1 else "threshold", "n": n, "q": q}


class Paxos(Spec):
    name = "paxos"
    summary = "Single-decree Paxos, Lamport's Paxos.tla (acceptors, ballots, message set)"
    params = {
        "acceptors": Param(3, "number of acceptors", min=1, max=7),
        "values": Param(2, "number of values that may be proposed", min=1, max=4),
        "ballots": Param(2, "ballots are 0..ballots-1", min=1, max=6),
        "quorum": Param(0, "quorum size; 0 = a majority", min=0, max=7),
    }
    variants = {
        "minority-quorum": "quorums have floor(n/2) acceptors, so two quorums need not intersect",
        "no-promise-check": "Phase2b accepts a 2a message below the acceptor's promised maxBal",
    }
    scenarios = (
        Scenario("default", "3 acceptors, 2 values, ballots 0..1, majority quorums",
                 {"acceptors": 3, "values": 2, "ballots": 2}, states=3921),
        Scenario("mc", "MCPaxos.cfg: 1 acceptor, 1 value, ballots 0..1 (TLC: 25 states)",
                 {"acceptors": 1, "values": 1, "ballots": 2}, states=25),
        Scenario("minority-quorum", "singleton quorums: two values are chosen (TLC: 8 steps)",
                 {"acceptors": 3, "values": 2, "ballots": 2}, variant="minority-quorum",
                 expect="violation", expect_property="Consistency", properties=("TypeOK", "Consistency")),
        Scenario("no-promise-check", "an acceptor votes in a ballot below its promise",
                 {"acceptors": 3, "values": 2, "ballots": 2}, variant="no-promise-check",
                 expect="violation", expect_property="Consistency", properties=("TypeOK", "Consistency")),
    )

    #: TLC's SYMMETRY Permutations(Acceptor) \cup Permutations(Value); used by --symmetry
    symmetry = ("Acceptor", "Value")
    #: the acceptors and the leader of each ballot (the spec's "ballot b leader"); 2b votes go to no one modelled
    participants = Participants("Acceptor", "Leader", per_node=("maxBal", "maxVBal", "maxVal"), channels=(
        Channel("msgs", routes={Msg1a: (lambda self, m: self.Leader[m.bal], "Acceptor"),
                                Msg1b: ("acc", lambda self, m: self.Leader[m.bal]),
                                Msg2a: (lambda self, m: self.Leader[m.bal], "Acceptor"),
                                Msg2b: ("acc", None)}),),
        reads={"Phase2a": lambda self, s, b, v: [m for m in s.msgs if type(m) is Msg1b and m.bal == b]})

    def setup(self):
        n = self.acceptors
        self.Acceptor = tuple(f"a{i + 1}" for i in range(n))
        self.Value = tuple(f"v{i + 1}" for i in range(self.values))
        self.Ballot = tuple(range(self.ballots))
        self.Leader = tuple(f"leader{b}" for b in self.Ballot)
        self.index = {a: i for i, a in enumerate(self.Acceptor)}
        self.q = quorum_size(n, self.quorum, self.variant)
        self.Quorum = tuple(frozenset(Q) for Q in combinations(self.Acceptor, self.q))
        self.messages_1a = tuple(Msg1a(b) for b in self.Ballot)
        self.messages_2a = tuple(Msg2a(b, v) for b in self.Ballot for v in self.Value)
        self.BallotOrNone = frozenset(self.Ballot) | {-1}
        self.ValueOrNone = frozenset(self.Value) | {NONE}

    def quorum_system(self) -> dict:
        """The quorum system the protocol relies on, for the quorum analysis."""
        return describe_quorums(self.acceptors, self.q)

    def init(self):
        n = self.acceptors
        yield PaxosState((-1,) * n, (-1,) * n, (NONE,) * n, frozenset())

    # -- the actions -------------------------------------------------------------
    @action(b="Ballot", by=lambda self, b: self.Leader[b])
    def Phase1a(self, s, b):
        """The ballot b leader begins ballot b."""
        return s._replace(msgs=s.msgs | {Msg1a(b)})

    @action(a="Acceptor", m="messages_1a", by="a")
    def Phase1b(self, s, a, m):
        """Acceptor a promises ballot m.bal > maxBal[a], reporting its latest vote."""
        i = self.index[a]
        if m in s.msgs and m.bal > s.maxBal[i]:
            reply = Msg1b(a, m.bal, s.maxVBal[i], s.maxVal[i])
            return s._replace(maxBal=replace_at(s.maxBal, i, m.bal), msgs=s.msgs | {reply})

    @action(b="Ballot", v="Value", by=lambda self, b, v: self.Leader[b])
    def Phase2a(self, s, b, v):
        """The ballot b leader asks for votes on v, once a quorum's 1b messages show v safe at b."""
        if any(type(m) is Msg2a and m.bal == b for m in s.msgs):
            return None
        for Q in self.Quorum:
            Q1b = [m for m in s.msgs if type(m) is Msg1b and m.acc in Q and m.bal == b]
            if {m.acc for m in Q1b} != Q:
                continue
            Q1bv = [m for m in Q1b if m.mbal >= 0]
            if not Q1bv or any(m.mval == v and all(m.mbal >= mm.mbal for mm in Q1bv) for m in Q1bv):
                return s._replace(msgs=s.msgs | {Msg2a(b, v)})
        return None

    @action(a="Acceptor", m="messages_2a", by="a")
    def Phase2b(self, s, a, m):
        """Acceptor a votes for m.val in ballot m.bal, unless it promised a higher ballot."""
        i = self.index[a]
        if m in s.msgs and (m.bal >= s.maxBal[i] or self.variant == "no-promise-check"):
            return PaxosState(replace_at(s.maxBal, i, m.bal), replace_at(s.maxVBal, i, m.bal),
                              replace_at(s.maxVal, i, m.val), s.msgs | {Msg2b(a, m.bal, m.val)})

    def permute(self, s, mapping):
        """``s`` with acceptors and values renamed by ``mapping`` (per-acceptor tuples move with their acceptor)."""
        n, at = self.acceptors, self.index
        order = [at[mapping[a]] for a in self.Acceptor]
        max_bal, max_vbal, max_val = [None] * n, [None] * n, [None] * n
        for i, j in enumerate(order):
            max_bal[j], max_vbal[j] = s.maxBal[i], s.maxVBal[i]
            max_val[j] = mapping[s.maxVal[i]] if s.maxVal[i] is not NONE else NONE
        msgs = set()
        for m in s.msgs:
            t = type(m)
            if t is Msg1b:
                m = Msg1b(mapping[m.acc], m.bal, m.mbal, mapping[m.mval] if m.mval is not NONE else NONE)
            elif t is Msg2a:
                m = Msg2a(m.bal, mapping[m.val])
            elif t is Msg2b:
                m = Msg2b(mapping[m.acc], m.bal, mapping[m.val])
            msgs.add(m)
        return PaxosState(tuple(max_bal), tuple(max_vbal), tuple(max_val), frozenset(msgs))

    # -- definitions from Paxos.tla and Voting.tla ---------------------------------------
    def votes(self, s) -> dict:
        """votes[a] = {<<m.bal, m.val>> : m a 2b message from a} (the refinement mapping)."""
        out = {a: set() for a in self.Acceptor}
        for m in s.msgs:
            if type(m) is Msg2b:
                out[m.acc].add((m.bal, m.val))
        return out

    def chosen(self, s, votes=None) -> set:
        """{v : some quorum all voted for v in one ballot} (Voting's ChosenAt)."""
        votes = votes if votes is not None else self.votes(s)
        return {v for v in self.Value for b in self.Ballot
                if any(all((b, v) in votes[a] for a in Q) for Q in self.Quorum)}

    @staticmethod
    def _did_not_vote_at(votes, a, b) -> bool:
        return not any(vb == b for vb, _ in votes[a])

    def _safe_at(self, s, votes, b, v) -> bool:
        """Voting's SafeAt(b, v): no value other than v is choosable in a ballot below b."""
        for c in range(b):
            if not any(all((c, v) in votes[a] or (s.maxBal[self.index[a]] > c and self._did_not_vote_at(votes, a, c))
                           for a in Q) for Q in self.Quorum):
                return False
        return True

    def _shows_safe_at(self, s, votes, Q, b, v) -> bool:
        """Voting's ShowsSafeAt(Q, b, v)."""
        if not all(s.maxBal[self.index[a]] >= b for a in Q):
            return False
        return any((c == -1 or any((c, v) in votes[a] for a in Q))
                   and all(self._did_not_vote_at(votes, a, d) for d in range(c + 1, b) for a in Q)
                   for c in range(-1, b))

    def explain(self, trace, violation=None) -> list[str]:
        """Which value each ballot chose and from which quorum, and why a later ballot did not see it."""
        s, lines = trace.states[-1], []
        votes, chosen = self.votes(s), []
        for b in self.Ballot:
            for v in self.Value:
                for Q in self.Quorum:
                    if all((b, v) in votes[a] for a in Q):
                        chosen.append((b, v, Q))
                        lines.append(f"{v} chosen in ballot {b} by {{{', '.join(sorted(Q))}}} (quorum size {self.q})")
                        break
        for b, v, _ in chosen:
            reports = sorted((m.acc, m.mbal, m.mval) for m in s.msgs if type(m) is Msg1b and m.bal == b)
            said = "; ".join(f"{a} voted {mv} in ballot {mb}" if mb >= 0 else f"{a} had not voted"
                             for a, mb, mv in reports) or "none"
            lines.append(f"{self.Leader[b]} proposed {v} in ballot {b} on 1b messages: {said}")
            earlier = [(b2, v2, Q2) for b2, v2, Q2 in chosen if b2 < b and v2 != v]
            for b2, v2, Q2 in earlier:
                missed = sorted(Q2 - {a for a, _, _ in reports})
                lines.append(f"ballot {b}'s 1b quorum did not include {', '.join(missed)} of the quorum that chose "
                             f"{v2} in ballot {b2}" if missed else
                             f"ballot {b}'s 1b quorum included {v2}'s voters, yet {v} was proposed")
        return lines

    # -- properties -------------------------------------------------------------
    @always
    def TypeOK(self, s):
        """Every variable stays in its type (msgs within the message universe)."""
        n, B, V = self.acceptors, self.BallotOrNone, self.ValueOrNone
        if not (len(s.maxBal) == len(s.maxVBal) == len(s.maxVal) == n):
            return False
        if not (B.issuperset(s.maxBal) and B.issuperset(s.maxVBal) and V.issuperset(s.maxVal)):
            return False
        return all(self._in_message(m) for m in s.msgs)

    def _in_message(self, m) -> bool:
        t, ballots, values = type(m), self.Ballot, self.Value
        if t is Msg1a:
            return m.bal in ballots
        if t is Msg1b:
            return (m.acc in self.index and m.bal in ballots and m.mbal in self.BallotOrNone
                    and m.mval in self.ValueOrNone)
        if t is Msg2a:
            return m.bal in ballots and m.val in values
        if t is Msg2b:
            return m.acc in self.index and m.bal in ballots and m.val in values
        return False

    @always
    def Consistency(self, s):
        """At most one value is chosen (Consensus.tla, through Voting's chosen)."""
        return len(self.chosen(s)) <= 1

    @always
    def Inv(self, s):
        """Paxos.tla's inductive invariant, including Voting's Inv (VotesSafe, OneValuePerBallot)."""
        if not self.TypeOK(s):
            return False
        votes = self.votes(s)
        for i, a in enumerate(self.Acceptor):
            if s.maxVBal[i] == -1:
                if s.maxVal[i] is not NONE:
                    return False
            elif (s.maxVBal[i], s.maxVal[i]) not in votes[a]:
                return False
        for m in s.msgs:
            if type(m) is Msg1b:
                if s.maxBal[self.index[m.acc]] < m.bal:
                    return False
                if m.mbal >= 0 and (m.mbal, m.mval) not in votes[m.acc]:
                    return False
            elif type(m) is Msg2a:
                if not any(self._shows_safe_at(s, votes, Q, m.bal, m.val) for Q in self.Quorum):
                    return False
                if any(type(mm) is Msg2a and mm.bal == m.bal and mm.val != m.val for mm in s.msgs):
                    return False
        return self._voting_inv(s, votes)

    def _voting_inv(self, s, votes) -> bool:
        """V!Inv == V!TypeOK /\\ VotesSafe /\\ OneValuePerBallot."""
        ballot_value = {(b, v) for b in self.Ballot for v in self.Value}
        if not all(vs <= ballot_value for vs in votes.values()):
            return False
        if not self.BallotOrNone.issuperset(s.maxBal):
            return False
        if not all(self._safe_at(s, votes, b, v) for a in self.Acceptor for b, v in votes[a]):
            return False
        value_of: dict[int, str] = {}
        for a in self.Acceptor:
            for b, v in votes[a]:
                if value_of.setdefault(b, v) != v:
                    return False
        return True

    @sometimes
    def value_chosen(self, s):
        """Some value can be chosen (the model is not vacuous)."""
        return bool(self.chosen(s))
