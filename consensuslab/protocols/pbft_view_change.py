"""PBFT's view change (Castro and Liskov 1999, Section 4.4), mixed into ``pbft.PBFT``.

A replica that times out in view v moves to v+1 and multicasts VIEW-CHANGE
with P, its highest-view prepared certificate per sequence number.  The
primary of v+1, holding q view-changes (its own among them), computes O: for
each n up to the highest certificate, the request of the highest-view
certificate, else the null request; it multicasts NEW-VIEW and pre-prepares
O.  A backup accepts a NEW-VIEW only if O is what the view-changes it carries
give; it enters the view and prepares every entry of O.

A Byzantine replica's view-change may carry any certificates that are valid
in ``msgs`` (or none); a Byzantine new primary may send each backup any
NEW-VIEW whose view-changes check out, so both are computed on demand.
"""

from __future__ import annotations

import itertools

from consensuslab.models.records import message, replace_at
from consensuslab.models.spec import action

NULL = "null"
NORMAL, VIEW_CHANGE = "normal", "view-change"


@message
class ViewChange:
    v: int
    P: frozenset  # prepared certificates (n, d, view)
    i: int


@message
class NewView:
    v: int
    O: tuple  # O[n-1]: the request pre-prepared at n in view v (sent by primary(v))


class ViewChangeMixin:
    """The view-change actions of ``PBFT``; they use its interned messages and quorum sizes."""

    @action(i="correct", by="i")
    def StartViewChange(self, s, i):
        """A timeout: move to view v+1 and send the highest-view prepared certificate per number."""
        v = s.view[i] + 1
        if v > self.max_view:
            return None
        best: dict = {}
        for u in range(v):  # ascending, so the highest view's certificate wins
            for n in self.SEQS:
                for c in self.my_coms[u, n, i]:
                    if c in s.msgs:
                        best[n] = (n, c.d, u)
        return s._replace(view=replace_at(s.view, i, v), status=replace_at(s.status, i, VIEW_CHANGE),
                          msgs=s.msgs | {ViewChange(v, frozenset(best.values()), i)})

    @action(i="primaries", by="i")
    def SendNewView(self, s, i):
        """The new primary, holding q view-changes (its own among them), announces O: a step per O those
        view-changes give, labelled by it (``SendNewView(i, O)``)."""
        v = s.view[i]
        if self.PRIMARY[v] != i or s.status[i] != VIEW_CHANGE:
            return
        for O in self.new_view_options(s, v, i):
            pps = {self.PP[v, n, d] for n, d in enumerate(O, 1)}
            yield O, s._replace(status=replace_at(s.status, i, NORMAL), msgs=s.msgs | pps | {NewView(v, O)})

    @action(i="correct", v="correct_new_views", by="i")
    def AcceptNewView(self, s, i, v):
        """A backup takes the new primary's NEW-VIEW (it recomputes the same O) and prepares O."""
        if not (s.view[i] < v or (s.view[i] == v and s.status[i] == VIEW_CHANGE)) or self.PRIMARY[v] == i:
            return None
        for m in self.new_views[v]:
            if m in s.msgs:
                return self.enter_view(s, i, v, m.O)

    @action(i="correct", v="byzantine_new_views", O="O_DOMAIN", by="i", fault=True)
    def AcceptByzantineNewView(self, s, i, v, O):
        """A Byzantine new primary may send each backup any NEW-VIEW whose O checks out."""
        if not (s.view[i] < v or (s.view[i] == v and s.status[i] == VIEW_CHANGE)):
            return None
        if O in self.new_view_options(s, v, None):
            return self.enter_view(s, i, v, O)

    def enter_view(self, s, i, v, O):
        prepares = {self.PREP[v, n, d, i] for n, d in enumerate(O, 1)}
        return s._replace(view=replace_at(s.view, i, v), status=replace_at(s.status, i, NORMAL),
                          msgs=s.msgs | prepares)

    def new_view_options(self, s, v, include) -> frozenset:
        """Every O computable from q valid view-changes for v from distinct replicas (with ``include``'s)."""
        key = (v, include, s.msgs)
        if key in self._nv_memo:
            return self._nv_memo[key]
        options: dict[int, list] = {j: [] for j in self.R}
        for m in s.msgs:
            if type(m) is ViewChange and m.v == v:
                options[m.i].append(m.P)
        certs = [(n, d, u) for u in range(v) for n in self.SEQS for d in self.DIGESTS if self.certified(s, u, n, d)]
        for j in self.byz:  # any choice of valid certificates, at most one per number
            per_seq = [[()] + [((c,)) for c in certs if c[0] == n] for n in self.SEQS]
            options[j] = [frozenset(itertools.chain(*pick)) for pick in itertools.product(*per_seq)]
        out = set()
        for senders in itertools.combinations(self.R, self.q):
            if include is None or include in senders:
                for Ps in itertools.product(*(options[j] for j in senders)):
                    out.add(self.compute_O(frozenset().union(*Ps)))
        if len(self._nv_memo) > 200_000:
            self._nv_memo.clear()
        result = self._nv_memo[key] = frozenset(out)
        return result

    def compute_O(self, certs: frozenset) -> tuple:
        """For n up to the highest certificate: the highest-view certificate's request, else null."""
        top = max((n for n, _, _ in certs), default=0)
        best = {n: min(((-u, d) for m, d, u in certs if m == n), default=(0, NULL)) for n in range(1, top + 1)}
        return tuple(best[n][1] for n in range(1, top + 1))
