"""Network semantics as policies a scenario chooses; a protocol never decides them.

A network value lives inside the global state and must be hashable.  An
envelope is ``(src, dst, msg)``.  Every policy answers the same questions:
which envelopes can be delivered (and what the network is afterwards), which
can be lost or duplicated, and what is in flight.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

import attrs

Envelope = tuple  # (src, dst, msg)


class Network:
    lossy: bool = False
    duplicating: bool = False

    def empty(self) -> Any:
        raise NotImplementedError

    def add(self, net, envelopes: Iterable[Envelope]):
        raise NotImplementedError

    def deliverable(self, net) -> Iterator[tuple[Envelope, Any]]:
        raise NotImplementedError

    def removable(self, net) -> Iterator[tuple[Envelope, Any]]:
        """Envelopes that can be lost, with the network after the loss."""
        return iter(())

    def duplicable(self, net) -> Iterator[tuple[Envelope, Any]]:
        return iter(())

    def in_flight(self, net) -> list[Envelope]:
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__

    def fair_delivery(self, net) -> bool:
        """Whether delivery between correct nodes is (weakly) fair in this network value."""
        return True

    def gst_step(self, net):
        """The network after a ``gst`` step, or None where there is none (only partial synchrony has one)."""
        return None


@attrs.frozen
class MessageSoup(Network):
    """A grow-only set of sent messages (TLA+'s ``msgs``): any message may be received any number of times.

    For handlers: a delivered message *stays* in the soup and can be delivered
    again, to the same node, at any later point.  A handler must therefore
    cope with receiving a message twice, usually by guarding on its state
    (``if ctx.src in s.votes: return None``), or it counts the same vote twice.
    Sending a message that is already there changes nothing.  Reordering and
    duplication come for free; loss is indistinguishable from not receiving,
    so there is nothing to model for it.  For a network where delivery
    consumes the message, use ``Unordered`` or ``Fifo``.
    """

    def empty(self):
        return frozenset()

    def add(self, net, envelopes):
        return net.union(envelopes) if envelopes else net

    def deliverable(self, net):
        for env in net:
            yield env, net

    def in_flight(self, net):
        return list(net)

    def describe(self):
        return "message soup (reorder, duplicate, never lost)"


@attrs.frozen
class Unordered(Network):
    """A multiset of messages in flight, each consumed by its delivery.

    ``lossy`` lets any message be lost; ``duplicating`` lets the network copy a
    message while fewer than ``max_copies`` copies of it are in flight
    (default 2: one duplicate at a time, which keeps the state space finite;
    sending a message already in flight adds a copy regardless).
    """

    duplicating: bool = False
    lossy: bool = False
    max_copies: int = 2

    def empty(self):
        return frozenset()

    def add(self, net, envelopes):
        if not envelopes:
            return net
        counts = dict(net)
        for env in envelopes:
            counts[env] = counts.get(env, 0) + 1
        return frozenset(counts.items())

    def _minus(self, net, env, count):
        rest = net - {(env, count)}
        return rest | {(env, count - 1)} if count > 1 else rest

    def deliverable(self, net):
        for env, count in net:
            yield env, self._minus(net, env, count)

    def removable(self, net):
        if self.lossy:
            yield from self.deliverable(net)

    def duplicable(self, net):
        if self.duplicating:
            for env, count in net:
                if count < self.max_copies:
                    yield env, (net - {(env, count)}) | {(env, count + 1)}

    def in_flight(self, net):
        out = []
        for env, count in net:
            out.extend([env] * count)
        return out

    def describe(self):
        flags = [f for f, on in (("lossy", self.lossy), ("duplicating", self.duplicating)) if on]
        return "unordered" + (f" ({', '.join(flags)})" if flags else "")


@attrs.frozen
class Fifo(Network):
    """Per-link FIFO channels: only the head of each (src, dst) queue can be delivered."""

    lossy: bool = False

    def empty(self):
        return frozenset()

    def add(self, net, envelopes):
        if not envelopes:
            return net
        queues = {(s, d): q for s, d, q in net}
        for src, dst, msg in envelopes:
            queues[(src, dst)] = queues.get((src, dst), ()) + (msg,)
        return frozenset((s, d, q) for (s, d), q in queues.items())

    def deliverable(self, net):
        for entry in net:
            src, dst, queue = entry
            rest = net - {entry}
            if len(queue) > 1:
                rest = rest | {(src, dst, queue[1:])}
            yield (src, dst, queue[0]), rest

    def removable(self, net):
        if self.lossy:
            yield from self.deliverable(net)

    def in_flight(self, net):
        return [(s, d, m) for s, d, q in net for m in q]


@attrs.frozen
class PartialSynchrony(Network):
    """Partial synchrony (Dwork, Lynch, Stockmeyer): an ``inner`` network plus a global stabilisation time.

    The value is ``(after_gst, inner value)``.  Before GST the adversary may
    delay any message (delivery owes no fairness) and, when ``drops``, lose
    it; a ``gst`` step flips the flag once, after which messages between
    correct nodes are delivered fairly and none is lost.  ``eventual``: GST
    comes (the ``gst`` step is weakly fair); ``eventual=False`` lets the
    adversary postpone it forever, which is the asynchronous model of FLP.
    """

    inner: Network = attrs.field(factory=lambda: Unordered())
    drops: bool = True
    eventual: bool = True

    @property
    def lossy(self) -> bool:  # drops are offered through ``removable`` only before GST
        return self.drops

    @property
    def duplicating(self) -> bool:
        return self.inner.duplicating

    def empty(self):
        return (False, self.inner.empty())

    def add(self, net, envelopes):
        if not envelopes:
            return net
        return (net[0], self.inner.add(net[1], envelopes))

    def deliverable(self, net):
        flag = net[0]
        for env, rest in self.inner.deliverable(net[1]):
            yield env, (flag, rest)

    def removable(self, net):
        if self.drops and not net[0]:
            for env, rest in self.inner.deliverable(net[1]):
                yield env, (False, rest)

    def duplicable(self, net):
        flag = net[0]
        for env, rest in self.inner.duplicable(net[1]):
            yield env, (flag, rest)

    def in_flight(self, net):
        return self.inner.in_flight(net[1])

    def fair_delivery(self, net) -> bool:
        return net[0]

    def gst_step(self, net):
        return None if net[0] else (True, net[1])

    def describe(self):
        return (f"partial synchrony over {self.inner.describe()}: before GST messages may be delayed"
                f"{' or lost' if self.drops else ''}; GST {'eventually comes' if self.eventual else 'may never come'}")
