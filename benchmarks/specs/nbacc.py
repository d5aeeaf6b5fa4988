"""Non-blocking atomic commitment with crashes (Raynal 1997), transcribed from the TLA+ Examples.

Source: ``specifications/nbacc_ray97/nbacc_ray97.tla`` (Konnov, Tran, Widder)
and its model ``nbacc_ray97.cfg`` in the TLA+ Examples repository (github
tlaplus/Examples).

Each process votes YES or NO (the initial ``pc``), sends its vote, and decides:
it aborts once it received a NO or its failure detector suspects a crash, and
commits once it received YES from every process while its detector suspects
nobody.  A process may crash at any time.  The spec's one action per process,
``Step(self)``, is a conjunction: ``Receive(self)`` (``rcvd[self]`` grows to any
``r`` with ``rcvd[self] \\subseteq r \\subseteq sent``), ``UpdateFailureDetector``
(``fd[self]`` becomes FALSE or TRUE) and one of ``UponYes``, ``UponNo``,
``UponCrash``, ``UponSent`` or doing nothing.  Here it is ``Step(self, r, f,
then)``: ``r`` ranges over every subset of ``Proc \\X M`` (guarded by the two
inclusions), ``f`` over the detector's two answers, and ``then`` over the five
disjuncts, ``UponSent``'s own three disjuncts apart (``sent-suspect``,
``sent-no``, ``sent-commit``; the first two abort).  As in the spec,
``UponSent`` reads the detector's and ``rcvd``'s new values, except its NO test,
which reads the old ``rcvd``.

Constants (``nbacc_ray97.cfg``): ``N = 2``; the cfg checks ``TypeOK`` (and
deadlock: there is none, doing nothing is always a step).

Distinct states: TLC 3,016 (manifest, nbacc_ray97.cfg); ours 3,016.

Added, not in the cfg: ``CommitValidity`` (a process commits only if every
process voted YES: every YES message is in ``sent``), which reads the state
only and cannot change the count.  Variant ``commit-without-votes``: a process
commits as soon as its detector suspects nobody, without every YES; the checker
finds a commit before the other process's YES was sent (two steps).
"""

from __future__ import annotations

from itertools import chain, combinations, product
from typing import NamedTuple

from consensuslab import Param, Scenario, Spec, action, always, record, replace_at, sometimes

M = ("YES", "NO")
PCS = ("NO", "YES", "ABORT", "COMMIT", "SENT", "CRASH")


@record
class NbacState(NamedTuple):
    pc: tuple  # pc[i] of process i + 1
    rcvd: tuple  # rcvd[i]: the (process, vote) messages process i + 1 received
    sent: frozenset  # the (process, vote) messages sent
    fd: tuple  # fd[i]: does process i + 1's failure detector suspect a crash?


class Nbacc(Spec):
    name = "nbacc"
    summary = "Non-blocking atomic commitment with crashes, nbacc_ray97.tla (TLA+ Examples)"
    params = {"n": Param(2, "number of processes", min=1, max=3)}
    variants = {"commit-without-votes": "a process commits once its detector suspects nobody, without every YES"}
    scenarios = (
        Scenario("cfg", "nbacc_ray97.cfg: N = 2 (TLC: 3,016)", {"n": 2}, states=3016),
        Scenario("commit-without-votes", "a commit where a process voted NO", {"n": 2},
                 variant="commit-without-votes", expect="violation", expect_property="CommitValidity"),
    )

    def setup(self):
        self.Proc = tuple(range(1, self.n + 1))
        messages = [(p, m) for p in self.Proc for m in M]
        self.Received = tuple(frozenset(r) for r in chain.from_iterable(
            combinations(messages, k) for k in range(len(messages) + 1)))  # SUBSET (Proc \X M)
        self.Bool = (False, True)
        self.Then = ("yes", "no", "crash", "sent-suspect", "sent-no", "sent-commit", "nothing")

    def init(self):
        for pc in product(("YES", "NO"), repeat=self.n):
            for fd in product(self.Bool, repeat=self.n):
                yield NbacState(pc, (frozenset(),) * self.n, frozenset(), fd)

    @action(self_="Proc", r="Received", f="Bool", then="Then")
    def Step(self, s, self_, r, f, then):
        i = self_ - 1
        if not (r <= s.sent and s.rcvd[i] <= r):  # Receive(self)
            return None
        pc, sent = s.pc[i], s.sent
        if then == "yes" and pc == "YES":
            pc, sent = "SENT", sent | {(self_, "YES")}
        elif then == "no" and pc == "NO":
            pc, sent = "SENT", sent | {(self_, "NO")}
        elif then == "crash" and pc != "CRASH":
            pc = "CRASH"
        elif then == "sent-suspect" and pc == "SENT" and f:
            pc = "ABORT"
        elif then == "sent-no" and pc == "SENT" and any(m == "NO" for _, m in s.rcvd[i]):
            pc = "ABORT"
        elif then == "sent-commit" and pc == "SENT" and not f and (
                self.variant == "commit-without-votes" or {p for p, m in r if m == "YES"} == set(self.Proc)):
            pc = "COMMIT"
        elif then != "nothing":
            return None
        return NbacState(replace_at(s.pc, i, pc), replace_at(s.rcvd, i, r), sent, replace_at(s.fd, i, f))

    @always
    def TypeOK(self, s):
        pairs = {(p, m) for p in self.Proc for m in M}
        return (s.sent <= pairs and len(s.pc) == self.n and all(pc in PCS for pc in s.pc)
                and len(s.rcvd) == self.n and all(r <= pairs for r in s.rcvd)
                and len(s.fd) == self.n and all(f in self.Bool for f in s.fd))

    @always
    def CommitValidity(self, s):
        """A process commits only if every process voted YES (every YES message was sent)."""
        return "COMMIT" not in s.pc or all((p, "YES") in s.sent for p in self.Proc)

    @sometimes
    def committed(self, s):
        return "COMMIT" in s.pc
