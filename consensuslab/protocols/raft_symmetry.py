"""Raft's servers are interchangeable: renaming them, and one exact representative per orbit.

Used by ``--symmetry`` (``consensuslab.checkers.reduction.symmetry``) through ``Raft.permute``
and ``Raft.canonical``.  Nothing in ``raft.py`` treats one server differently from
another except the ``candidates`` bound (only s1..sN time out), so the symmetry
group is every permutation of the servers, or, under that bound, the permutations
that keep the would-be candidates among themselves (``Raft.setup`` declares the two
classes then).  The properties only quantify over servers (a leader, two logs, a
server's commitIndex) and the ghost ``committed`` holds no server names, so they
are symmetric too.

Why a plain signature sort is not enough: servers name each other (``votedFor``,
the votes a candidate has counted, a leader's ``nextIndex``/``matchIndex`` rows,
every message's source and destination).  Two servers with equal local state may
still play different parts: s2 and s3 both followers in term 2 with empty logs, but
a RequestVote in flight goes from s1 to s2 only.  Sorting by local state alone
would then merge states of different orbits.

What ``canonical`` does instead: each server gets a signature that renaming
cannot change (its own variables, whom it voted for as "nobody / itself /
another", how many votes it holds, its nextIndex/matchIndex rows as multisets,
and the messages it sends and receives with the names replaced by "from me" /
"to me").  Servers are ordered by signature; where signatures tie, every
arrangement of the tied servers is tried, and the least image (``order_key``) is
the representative.  It is exact:

* the representative is ``permute(state, σ)`` for a permutation σ in the group
  (the sort keeps each class in its own positions), so it lies in the orbit;
* for a renamed state π(s), server π(k) has the signature server k had in s, so
  the arrangements consistent with the sort are σ∘π⁻¹ for those of s, which give
  the very same images; the least of the same set is the same state.

So two states get the same representative iff they are in one orbit, whatever
the signature (a coarser one only costs more tie-breaking: at most n! images
when every server looks alike, as in the initial state).
"""

from __future__ import annotations

import functools
import itertools
import operator

import attrs

from consensuslab.protocols.raft_log import (
    AppendEntriesRequest,
    AppendEntriesResponse,
    RequestVoteRequest,
    RequestVoteResponse,
)

#: per message type, the fields that hold no server name (msource and mdest are the last two)
PLAIN = {kind: tuple(f.name for f in attrs.fields(kind))[:-2]
         for kind in (RequestVoteRequest, RequestVoteResponse, AppendEntriesRequest, AppendEntriesResponse)}
assert all(tuple(f.name for f in attrs.fields(k))[-2:] == ("msource", "mdest") for k in PLAIN)


@functools.lru_cache(maxsize=1 << 16)
def _content(m) -> tuple:
    """A message's type and name-free fields, comparable between messages (messages are interned)."""
    return (type(m).__name__,) + tuple(getattr(m, f) for f in PLAIN[type(m)])


def permute(spec, s, mapping: dict):
    """``s`` with every server ``x`` renamed ``mapping[x]``: per-server entries move to the new name's position."""
    Server, index = spec.Server, spec.index
    source = [0] * len(Server)  # source[p]: the server whose entries land at position p
    for k, x in enumerate(Server):
        source[index[mapping[x]]] = k
    if all(k == p for p, k in enumerate(source)):  # the identity (always so for one server)
        return s
    move = operator.itemgetter(*source)  # a tuple of the entries in their new order

    def renamed(group: frozenset) -> frozenset:
        return frozenset([mapping[x] for x in group]) if group else group

    message = spec.message
    return s._replace(
        currentTerm=move(s.currentTerm), state=move(s.state),
        votedFor=move(tuple([mapping.get(v, v) for v in s.votedFor])),  # NIL is no server: it stays
        log=move(s.log), commitIndex=move(s.commitIndex),
        votesResponded=move(tuple([renamed(g) for g in s.votesResponded])),
        votesGranted=move(tuple([renamed(g) for g in s.votesGranted])),
        nextIndex=move(tuple([move(row) for row in s.nextIndex])),
        matchIndex=move(tuple([move(row) for row in s.matchIndex])),
        messages=frozenset([(message(type(m), *[getattr(m, f) for f in PLAIN[type(m)]],
                                     mapping[m.msource], mapping[m.mdest]), c) for m, c in s.messages]))


def signatures(spec, s, members: tuple[int, ...]) -> list[tuple]:
    """Per server of ``members``, what the state says about it in terms no renaming changes."""
    Server, index = spec.Server, spec.index
    mail: dict[int, list] = {k: [] for k in members}  # messages a server sends or receives, names dropped
    for m, c in s.messages:
        src, dst = index[m.msource], index[m.mdest]
        if src in mail:
            mail[src].append((True, src == dst, _content(m), c))
        if dst in mail and dst != src:
            mail[dst].append((False, True, _content(m), c))
    out = []
    for k in members:
        me = Server[k]
        voted, row_next, row_match, granted = s.votedFor[k], s.nextIndex[k], s.matchIndex[k], s.votesGranted[k]
        out.append((s.currentTerm[k], s.state[k], s.log[k], s.commitIndex[k],
                    0 if voted not in index else 1 if voted == me else 2,  # nobody (NIL) / itself / another
                    len(s.votesResponded[k]), len(granted), me in granted,
                    row_next[k], tuple(sorted(row_next)), row_match[k], tuple(sorted(row_match)),
                    tuple(sorted(mail[k]))))
    return out


def order_key(s) -> tuple:
    """A total order on states, the same in every process (frozensets sorted); injective on RaftState."""
    return (s.currentTerm, s.state, s.votedFor, s.log, s.commitIndex,
            tuple(tuple(sorted(g)) for g in s.votesResponded), tuple(tuple(sorted(g)) for g in s.votesGranted),
            s.nextIndex, s.matchIndex,
            tuple(sorted((_content(m), m.msource, m.mdest, c) for m, c in s.messages)),
            s.restarts, tuple(sorted(s.committed)))


def canonical(spec, s):
    """The least image of ``s`` over the arrangements consistent with the signature sort (see the module)."""
    groups: list[list[int]] = []  # servers that tie, in the order they take the names s1, s2, ...
    for members in spec.server_classes:  # each class keeps its own positions
        if len(members) == 1:
            groups.append([members[0]])
            continue
        keyed = sorted(zip(signatures(spec, s, members), members))
        for pos, (sig, k) in enumerate(keyed):
            if pos and sig == keyed[pos - 1][0]:
                groups[-1].append(k)
            else:
                groups.append([k])
    Server = spec.Server
    if len(groups) == len(Server):  # no ties: one arrangement
        return permute(spec, s, {Server[k]: Server[p] for p, (k,) in enumerate(groups)})
    best, best_key = None, None
    for choice in itertools.product(*(itertools.permutations(g) for g in groups)):
        order = [k for part in choice for k in part]  # order[p]: the server renamed Server[p]
        image = permute(spec, s, {Server[k]: Server[p] for p, k in enumerate(order)})
        key = order_key(image)
        if best_key is None or key < best_key:
            best, best_key = image, key
    return best
