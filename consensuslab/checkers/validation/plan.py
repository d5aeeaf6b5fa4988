"""The log as the search consumes it: each node's expectations, what each waits for, the order tried.

An expectation of a node may be taken once the node's earlier ones are; a
receive's expectations also wait until the expectations of the event its
``link`` names (the send) are taken, which is the only ordering between nodes.
``order`` is the order in which ready heads are tried: by the source event's
clock where logged, then by node, then by position.
"""

from __future__ import annotations

import bisect
import inspect
import os

from consensuslab.checkers.validation.expect import Expect
from consensuslab.errors import ConsensuslabError, ModelError
from consensuslab.logs.event import Event, Log
from consensuslab.models.blame import where

#: event kinds that receive a message (a linked event receives too)
RECEIVE_KINDS = frozenset({"receive", "deliver", "recv"})


def mapping_error(mapping, exc: Exception, doing: str) -> ModelError:
    """A user's mapping that raised, as one line naming its class, method and line."""
    try:
        filename = os.path.abspath(inspect.getfile(type(mapping)))
    except (TypeError, OSError):
        filename = None
    return ModelError(f"mapping {type(mapping).__name__}: {doing} raised {type(exc).__name__}: {exc} "
                      f"(at {where(exc, filename)})")


class Plan:
    def __init__(self, model, log: Log, mapping):
        self.log = log
        self.nodes: tuple[str, ...] = log.nodes
        self.index = {n: k for k, n in enumerate(self.nodes)}
        try:
            mapping.prepare(model, log)
        except ConsensuslabError:
            raise
        except Exception as exc:
            raise mapping_error(mapping, exc, "prepare") from None
        self.expects: list[tuple[Expect, ...]] = [self._expectations(model, mapping, n) for n in self.nodes]
        self.lengths = tuple(len(x) for x in self.expects)
        self.total = sum(self.lengths)
        seqs = [[x.event[1] for x in exps] for exps in self.expects]
        self.waits: list[list[tuple[tuple[int, int], ...]]] = [self._waits(k, seqs) for k in range(len(self.nodes))]
        self.order = [[self._key(k, x, e) for x, e in enumerate(exps)] for k, exps in enumerate(self.expects)]
        self.receives = [[self._receives(k, x) for x in range(len(exps))] for k, exps in enumerate(self.expects)]
        self.copies = self._copy_windows(seqs)
        self.copy_index = self._copy_index(self.copies)

    def _expectations(self, model, mapping, node: str) -> tuple[Expect, ...]:
        events = self.log.of(node)
        try:
            got = tuple(mapping.expectations(model, node, events))
        except ConsensuslabError:
            raise
        except Exception as exc:
            raise mapping_error(mapping, exc, f"expectations for node {node}") from None
        last = -1
        for x in got:
            if not isinstance(x, Expect) or x.node != node:
                raise ModelError(f"mapping {type(mapping).__name__}: expectations for node {node} must be "
                                 f"Expect values of that node, got {x!r}"[:300])
            if x.event[1] < last:
                raise ModelError(f"mapping {type(mapping).__name__}: expectations for node {node} are out of "
                                 f"order (event {x.event[1]} after {last})")
            last = x.event[1]
        return got

    def _waits(self, k: int, seqs: list[list[int]]) -> list[tuple[tuple[int, int], ...]]:
        """Per expectation of node ``k``: (node, position) pairs the other nodes must have reached first."""
        out: list[dict[int, int]] = [{} for _ in self.expects[k]]
        mine = seqs[k]
        for event in self.log.of(self.nodes[k]):
            if event.link is None or event.link[0] not in self.index or self.log.event(event.link) is None:
                continue
            first = bisect.bisect_left(mine, event.seq)
            if first == len(mine):
                continue
            other = self.index[event.link[0]]
            needed = bisect.bisect_right(seqs[other], event.link[1])
            if needed:
                out[first][other] = max(out[first].get(other, 0), needed)
        return [tuple(sorted(w.items())) for w in out]

    def _key(self, k: int, x: int, expect: Expect) -> tuple:
        event = self.event_of(k, x)
        clock = event.clock if event is not None and event.clock is not None else float("inf")
        return clock, k, x

    def _receives(self, k: int, x: int) -> bool:
        """Whether an expectation stands for a receive whose send is not known (an unlinked receive)."""
        event = self.event_of(k, x)
        return event is not None and event.link is None and event.kind in RECEIVE_KINDS

    def _copy_windows(self, seqs: list[list[int]]) -> list[tuple[int, int, tuple[tuple[int, int], ...]]]:
        """Per send received more than once: (its node, the position once it is taken, and each receive's
        (node, position once taken)).  Between the two, the network must copy its message."""
        receivers: dict[tuple[str, int], list] = {}
        for event in self.log:
            if event.link is not None and event.link[0] in self.index and self.log.event(event.link) is not None:
                receivers.setdefault(event.link, []).append(event)
        out = []
        for send, events in sorted(receivers.items()):
            if len(events) < 2:
                continue
            k = self.index[send[0]]
            taken = tuple((self.index[e.node], bisect.bisect_right(seqs[self.index[e.node]], e.seq)) for e in events)
            out.append((k, bisect.bisect_right(seqs[k], send[1]), taken))
        return out

    @staticmethod
    def _copy_index(copies) -> dict[tuple[int, int], tuple[list[int], list[int]]]:
        """Per (sender, receiver): the windows' send positions, ascending, and the running maximum of the
        position that completes the receiver's receives; so ``copies_pending`` costs a bisection per pair,
        not a pass over every window (which made long logs quadratic)."""
        pairs: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for k, sent, receives in copies:
            done: dict[int, int] = {}
            for r, taken in receives:
                done[r] = max(done.get(r, 0), taken)
            for r, taken in done.items():
                pairs.setdefault((k, r), []).append((sent, taken))
        out = {}
        for pair, windows in pairs.items():
            windows.sort()
            running, top = [], 0
            for _, taken in windows:
                top = max(top, taken)
                running.append(top)
            out[pair] = ([sent for sent, _ in windows], running)
        return out

    def copies_pending(self, pos: tuple[int, ...]) -> bool:
        """Whether a message received more than once has been sent and not yet received by every receive."""
        for (k, r), (sents, running) in self.copy_index.items():
            n = bisect.bisect_right(sents, pos[k])
            if n and running[n - 1] > pos[r]:
                return True
        return False

    def event_of(self, k: int, x: int) -> Event | None:
        return self.log.event(self.expects[k][x].event)

    def ready(self, k: int, x: int, pos: tuple[int, ...]) -> bool:
        return all(pos[other] >= needed for other, needed in self.waits[k][x])

    def heads(self, pos: tuple[int, ...]) -> list[tuple[int, int]]:
        """The (node, position) of every expectation that may be taken next, in the canonical order."""
        out = [(k, x) for k, x in enumerate(pos) if x < self.lengths[k] and self.ready(k, x, pos)]
        out.sort(key=lambda kx: self.order[kx[0]][kx[1]])
        return out
