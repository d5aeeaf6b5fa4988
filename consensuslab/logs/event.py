"""A log event, and a log: each node's events in its own order, receives linked to their sends.

The format (one JSON object per line)::

    {"node": "n1", "seq": 7, "kind": "receive", "msg": {...}, "state": {...},
     "clock": 123456, "link": {"node": "n2", "seq": 4}}

``node``, ``seq`` (the event's position in that node's order; gaps allowed) and
``kind`` are required; ``msg`` (the message sent or received), ``state`` (part
of the node's state after the event), ``clock`` (any number; only a hint for
the order in which independent events are tried) and ``link`` (for a receive:
the event that sent the message) are optional, and so is anything else a
mapping wants to read (kept in ``fields``).  No global order is assumed.
"""

from __future__ import annotations

from typing import Any, Iterator


class Event:
    """One event of one node; ``fields`` is the whole parsed object, ``where`` its file and line."""

    __slots__ = ("node", "seq", "kind", "msg", "state", "clock", "link", "fields", "where")

    def __init__(self, node: str, seq: int, kind: str, fields: dict[str, Any], where: str = ""):
        self.node, self.seq, self.kind, self.fields, self.where = node, seq, kind, fields, where
        self.msg = fields.get("msg")
        self.state = fields.get("state")
        clock = fields.get("clock")
        self.clock = clock if isinstance(clock, (int, float)) and not isinstance(clock, bool) else None
        link = fields.get("link")
        self.link = (link["node"], link["seq"]) if isinstance(link, dict) else None

    @property
    def ref(self) -> tuple[str, int]:
        """``(node, seq)``: how reports and links name this event."""
        return self.node, self.seq

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

    def describe(self) -> str:
        """``n1#7 receive request_vote from n2``: the event in a few words, for reports."""
        text = f"{self.node}#{self.seq} {self.kind}"
        msg = self.msg
        if isinstance(msg, dict):
            kind = msg.get("type") or msg.get("tag")
            if isinstance(kind, str):
                text += f" {kind}"
            for key, word in (("from", "from"), ("to", "to")):
                if isinstance(msg.get(key), str) and msg[key] != self.node:
                    text += f" {word} {msg[key]}"
        return text

    def __repr__(self) -> str:
        return f"Event({self.describe()})"


class Log:
    """Every node's events in its own order (by ``seq``), and where each came from."""

    def __init__(self, events: dict[str, tuple[Event, ...]], sources: tuple[str, ...] = ()):
        self.nodes: tuple[str, ...] = tuple(sorted(events))
        self.events = events
        self.sources = sources
        self._by_ref = {e.ref: e for evs in events.values() for e in evs}

    def __len__(self) -> int:
        return len(self._by_ref)

    def __iter__(self) -> Iterator[Event]:
        for node in self.nodes:
            yield from self.events[node]

    def of(self, node: str) -> tuple[Event, ...]:
        return self.events.get(node, ())

    def event(self, ref: tuple[str, int]) -> Event | None:
        return self._by_ref.get(ref)

    def dangling_links(self) -> list[Event]:
        """Receives whose ``link`` names an event that is not in the log (a sender's log not given)."""
        return [e for e in self if e.link is not None and e.link not in self._by_ref]

    def gaps(self) -> dict[str, int]:
        """Per node, how many seq numbers are missing between its first and last event."""
        out = {}
        for node in self.nodes:
            evs = self.events[node]
            if evs:
                missing = evs[-1].seq - evs[0].seq + 1 - len(evs)
                if missing:
                    out[node] = missing
        return out
