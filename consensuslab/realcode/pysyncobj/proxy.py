"""Loopback TCP proxies between PySyncObj nodes: faults injected from outside the nodes, per direction.

PySyncObj keeps one connection per pair of nodes, opened by the node whose
address sorts higher, and knows a node by its address; so each pair gets one
proxy, and the connecting node is told the peer's real address (its identity)
with the proxy's host and port (``node.ProxiedNode``).  The proxy reads
PySyncObj's framing (a 4-byte length, then the message) and acts on whole
messages:

* ``drop``: lose each message with that probability (the connection stays up);
* ``delay`` + ``jitter``: hold each message delay + U(0, jitter) seconds, order kept;
* ``cut``: close the pair's connection and refuse new ones until ``heal``.

The first message of a connection (the connecting node's address) is never
dropped.  Everything runs on one asyncio loop in a daemon thread, bound to
127.0.0.1; the control methods may be called from any thread.
"""

from __future__ import annotations

import asyncio
import random
import struct
import threading
from collections import Counter


class Fault:
    def __init__(self):
        self.drop, self.delay, self.jitter = 0.0, 0.0, 0.0


class Link:
    """The proxy of one pair; ``client`` is the node that connects, ``server`` the one it reaches."""

    def __init__(self, client: str, server: str, upstream: tuple[str, int], rng: random.Random):
        self.client, self.server, self.upstream, self.rng = client, server, upstream, rng
        self.faults = {(client, server): Fault(), (server, client): Fault()}
        self.stats = {d: Counter() for d in self.faults}
        self.cut = False
        self.port = None
        self.listener = None
        self.writers: set = set()

    async def start(self) -> None:
        self.listener = await asyncio.start_server(self.accept, "127.0.0.1", 0)
        self.port = self.listener.sockets[0].getsockname()[1]

    def close_connections(self) -> None:
        for writer in list(self.writers):
            writer.transport.abort()

    async def accept(self, c_reader, c_writer) -> None:
        direction = (self.client, self.server)
        if self.cut:
            self.stats[direction]["refused"] += 1
            c_writer.transport.abort()
            return
        try:
            s_reader, s_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            self.stats[direction]["upstream_down"] += 1
            c_writer.transport.abort()
            return
        self.stats[direction]["connections"] += 1
        self.writers |= {c_writer, s_writer}
        pumps = [asyncio.ensure_future(self.pump(c_reader, s_writer, direction, handshake=True)),
                 asyncio.ensure_future(self.pump(s_reader, c_writer, direction[::-1]))]
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for task in pumps:
            task.cancel()
        for writer in (c_writer, s_writer):
            self.writers.discard(writer)
            writer.transport.abort()

    async def pump(self, reader, writer, direction, handshake=False) -> None:
        loop, queue, stats = asyncio.get_running_loop(), asyncio.Queue(), self.stats[direction]
        deliver = asyncio.ensure_future(self.deliver(queue, writer, stats))
        due = 0.0
        try:
            while not deliver.done():
                head = await reader.readexactly(4)
                body = await reader.readexactly(struct.unpack("i", head)[0])
                fault = self.faults[direction]
                if not handshake and fault.drop and self.rng.random() < fault.drop:
                    stats["dropped"] += 1
                    continue
                handshake = False
                due = max(loop.time() + fault.delay + self.rng.uniform(0, fault.jitter), due)
                queue.put_nowait((due, head + body))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            deliver.cancel()

    @staticmethod
    async def deliver(queue, writer, stats) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, data = await queue.get()
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            writer.write(data)
            await writer.drain()
            stats["forwarded"] += 1


class ProxyNet:
    """Every pair's proxy, on one event loop in a background thread."""

    def __init__(self, seed: int | None = None):
        self.rng = random.Random(seed)
        self.links: dict[frozenset, Link] = {}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="proxynet", daemon=True)
        self.thread.start()

    def call(self, fn, *args):
        """Run ``fn(*args)`` (plain or a coroutine function) on the loop and wait for it."""
        async def call():
            result = fn(*args)
            return await result if asyncio.iscoroutine(result) else result
        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(5)

    def add_link(self, client: str, server: str, upstream: str) -> str:
        """Proxy ``client`` -> ``server`` (at ``upstream``); the proxy's address."""
        host, port = upstream.rsplit(":", 1)
        link = Link(client, server, (host, int(port)), self.rng)
        self.call(link.start)
        self.links[frozenset((client, server))] = link
        return f"127.0.0.1:{link.port}"

    def set(self, src: str, dst: str, drop=None, delay=None, jitter=None) -> None:
        """Messages from ``src`` to ``dst``: loss probability, delay and jitter in seconds."""
        fault = self.links[frozenset((src, dst))].faults[(src, dst)]
        for name, value in (("drop", drop), ("delay", delay), ("jitter", jitter)):
            if value is not None:
                setattr(fault, name, value)

    def set_all(self, **kwargs) -> None:
        for link in self.links.values():
            for src, dst in link.faults:
                self.set(src, dst, **kwargs)

    def isolate(self, node: str) -> None:
        """Cut every pair ``node`` is in (a partition of one node from the rest)."""
        for link in self.links.values():
            if node in (link.client, link.server):
                link.cut = True
                self.call(link.close_connections)

    def heal(self) -> None:
        """Undo every cut and fault."""
        for link in self.links.values():
            link.cut = False
            for fault in link.faults.values():
                fault.drop = fault.delay = fault.jitter = 0.0

    def stats(self) -> dict:
        return {f"{s}->{d}": dict(c) for link in self.links.values() for (s, d), c in link.stats.items()}

    def stop(self) -> None:
        async def close():
            for link in self.links.values():
                link.close_connections()
                link.listener.close()
        self.call(close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
