"""What a PySyncObj log shows beyond what a model checks: counts of its departures from raft.tla, and the
signature of its snapshot bug.

* ``reappended_identical_entries``: entries truncated and appended again unchanged within one AppendEntries
  (PySyncObj always truncates after prevLogIdx; within one message that is no change, and the mapping
  reads it so);
* ``commit_index_decreased``: the commit index went down (clamped after a truncation or a snapshot);
* ``commit_advanced_by_snapshot_chunk``: the commit index rose while the first chunk of a snapshot was
  handled, before the snapshot replaced the log: the follower's own, unchecked entries counted as committed
  (the bug that lets stale entries be applied; README, "PySyncObj");
* ``leaders_per_term``: who led each term (two in one term would break election safety);
* ``raft_sends_never_received``: Raft messages sent (or dropped by PySyncObj unsent, its connection down)
  that no receive links to: lost to a kill, a cut or the proxy.  raft.tla's message bag lets a message stay
  in flight forever, so these need no loss step in an explanation.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from consensuslab.logs.event import Log
from consensuslab.realcode.pysyncobj.mapping import RAFT_MESSAGES


def findings(log: Log) -> dict:
    out: Counter = Counter()
    leaders: dict[int, set] = defaultdict(set)
    for node in log.nodes:
        removed: dict[int, tuple] = {}
        in_chunk = False
        for e in log.of(node):
            msg = e.msg if isinstance(e.msg, dict) else {}
            kind, state = e.kind, e.state if isinstance(e.state, dict) else {}
            if kind == "role" and msg.get("to") == "leader":
                leaders[state.get("term")].add(node)
            if kind == "receive":
                chunk = msg.get("serialized")
                in_chunk = isinstance(chunk, dict) and not chunk.get("last")
            elif kind == "commit":
                if msg["to"] < msg["from"]:
                    out["commit_index_decreased"] += 1
                elif in_chunk:
                    out["commit_advanced_by_snapshot_chunk"] += 1
            elif kind == "restart" and not msg.get("first_boot"):
                out["restarts"] += 1
            elif kind == "log" and msg.get("type") == "truncate":
                out["truncations"] += 1
                removed = {"from": msg["from_index"]}
            elif kind == "log" and msg.get("type") == "append":
                entry = msg["entry"]
                if removed and entry["index"] >= removed["from"]:
                    out["reappended_entries"] += 1
            elif kind == "log" and msg.get("type") == "clear":
                out["snapshots_installed"] += 1
            if kind in ("send", "receive") and msg.get("type") == "append_entries" and "serialized" in msg:
                out[f"snapshot_chunks_{kind}"] += 1
    received = {e.link for e in log if e.link is not None}
    for e in log:
        msg = e.msg if isinstance(e.msg, dict) else {}
        if e.kind == "send" and msg.get("type") in RAFT_MESSAGES and e.ref not in received:
            out["raft_sends_never_received"] += 1
            if e.get("unsent"):
                out["raft_sends_unsent"] += 1
    return {**dict(sorted(out.items())), "leaders_per_term": {t: sorted(ns) for t, ns in sorted(leaders.items())},
            "terms_with_two_leaders": sorted(t for t, ns in leaders.items() if len(ns) > 1)}
