"""Liveness throughput and memory: exploration into CSR arrays, then fair-SCC analysis.

    python benchmarks/bench_liveness.py            # two-phase spec rm=5..7, actors rm=3..5
    python benchmarks/bench_liveness.py --rm 8     # one size, the ~1M-edge regime
    python benchmarks/bench_liveness.py --profile  # cProfile of the largest run

Prints states, edges, seconds split into exploring and analysing, peak RSS,
and bytes per edge of the graph arrays (which hold no Python object per edge).
The spec runs use a subclass with TM/RM fairness and "every RM decides", so
the whole graph is searched (the property holds: no early exit).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from consensuslab.checkers.liveness.check import Explored, find_lasso
from consensuslab.models.fairness import Fair
from consensuslab.models.properties import eventually
from consensuslab.protocols.two_phase import TwoPhase
from consensuslab.protocols.two_phase_actors import TwoPhaseActors


class FairTwoPhase(TwoPhase):
    fairness = (Fair("step", "TMAbort"), Fair("step", "RMPrepare"), Fair("step", "RMChooseToAbort"),
                Fair("step", "RMRcvCommitMsg"), Fair("step", "RMRcvAbortMsg"))

    @eventually
    def all_decide(self, s):
        return all(x in ("committed", "aborted") for x in s.rmState)


def measure(label: str, model) -> dict:
    t0 = time.perf_counter()
    ex = Explored(model, list(model.liveness))
    t1 = time.perf_counter()
    lassos = [find_lasso(ex, k) for k in range(len(ex.props))]
    t2 = time.perf_counter()
    g = ex.graph
    graph_bytes = (g.offsets.itemsize * len(g.offsets) + g.dst.itemsize * len(g.dst)
                   + g.cls.itemsize * len(g.cls))
    row = {"model": label, "states": len(ex.via), "edges": len(g.dst), "explore_s": round(t1 - t0, 2),
           "analyse_s": round(t2 - t1, 2), "states_per_s": round(len(ex.via) / (t1 - t0)),
           "graph_MB": round(graph_bytes / 2 ** 20, 1),
           "bytes_per_edge": round(graph_bytes / max(len(g.dst), 1), 1),
           "peak_rss_MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
           "verdict": ["violated" if t is not None else "holds" for t in lassos]}
    print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rm", type=int, help="only this many RMs (spec)")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)
    if args.profile:
        import cProfile
        import pstats

        rm = args.rm or 6
        profiler = cProfile.Profile()
        profiler.runctx("measure(f'two-phase rm={rm}', FairTwoPhase({'rm': rm}).compile())",
                        globals(), {"rm": rm})
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
        return 0
    sizes = [args.rm] if args.rm else [5, 6, 7]
    for rm in sizes:
        measure(f"two-phase rm={rm}", FairTwoPhase({"rm": rm}).compile())
    if not args.rm:
        for rm in (3, 4, 5):
            measure(f"two-phase-actors rm={rm}", TwoPhaseActors.configure({"rm": rm}, scenario="fair").compile())
    return 0


if __name__ == "__main__":
    sys.exit(main())
