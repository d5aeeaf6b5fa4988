"""Progress on stderr for long runs: states, states/s, depth, queue.

Silent for the first two seconds so that short checks print nothing extra.
On a terminal the line is redrawn in place; elsewhere (CI logs) it prints a
line every ``interval`` seconds.
"""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, enabled: bool = True, delay: float = 2.0, interval: float = 2.0, stream=None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.next_at = self.start + delay
        self.interval = interval
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.printed = False

    def due(self, now: float) -> bool:
        return self.enabled and now >= self.next_at

    def report(self, now: float, states: int, depth: int, queue: int, label: str = "") -> None:
        self.next_at = now + self.interval
        elapsed = max(now - self.start, 1e-9)
        line = (f"{label}{states:,} states  {states / elapsed:,.0f} states/s  depth {depth}  "
                f"queue {queue:,}  {elapsed:.0f}s")
        if self.tty:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.printed = True

    def close(self) -> None:
        if self.printed and self.tty:
            self.stream.write("\n")
            self.stream.flush()
