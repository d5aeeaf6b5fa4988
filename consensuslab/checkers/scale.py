"""The ``check`` options of the scaling searches, and the dispatch to them.

Kept out of ``commands/check.py`` so that the command only gains two lines:
the options, and one branch that hands over when any of them is given.
"""

from __future__ import annotations

from consensuslab.errors import UsageError


def add_options(p) -> None:
    from consensuslab.commands._common import non_negative_int, positive_int

    g = p.add_argument_group("scale (safety only)")
    g.add_argument("--symmetry", action="store_true",
                   help="explore one state per orbit of the protocol's declared node symmetry")
    g.add_argument("--workers", type=positive_int, default=1, metavar="N",
                   help="breadth-first search in N forked processes, each expanding its share of every "
                        "level (with --swarm: N searches at a time)")
    g.add_argument("--cluster", metavar="ADDRESS",
                   help="run the partitioned search on Dask: tcp://HOST:PORT or local:N (needs the "
                        "'distributed' extra)")
    g.add_argument("--swarm", type=positive_int, metavar="N",
                   help="N randomised bounded depth-first searches (finds bugs; never reports ok)")
    g.add_argument("--seed", type=non_negative_int, default=0, metavar="N", help="seed of --swarm (default 0)")
    g.add_argument("--spill-after", type=positive_int, metavar="N",
                   help="keep at most N states of a breadth-first level in memory, the rest on disk "
                        "(default: spill only when the machine runs short of memory)")
    g.add_argument("--checkpoint", metavar="DIR",
                   help="save the search to DIR when --time-limit/--max-states stops it; resume from DIR")


def scaled(args) -> bool:
    """Does the command line ask for any of these searches?"""
    return bool(getattr(args, "symmetry", False) or getattr(args, "workers", 1) > 1 or getattr(args, "cluster", None)
                or getattr(args, "swarm", None) or getattr(args, "checkpoint", None))


def check_scaled(model, args, max_depth):
    if model.liveness:
        if args.symmetry:
            raise UsageError("symmetry reduction is unsound for liveness; check liveness without --symmetry")
        raise UsageError("--workers/--cluster/--swarm/--checkpoint check safety only; "
                         "drop them (or pick safety properties with --property) to check liveness")
    if args.search == "dfs" and not args.swarm:
        raise UsageError("--symmetry/--workers/--cluster/--checkpoint search breadth-first; drop --search dfs")
    chosen = [n for n, on in (("--cluster", args.cluster), ("--checkpoint", args.checkpoint),
                              ("--swarm", args.swarm), ("--workers", args.workers > 1 and not args.swarm)) if on]
    if len(chosen) > 1:
        raise UsageError(f"{chosen[0]} and {chosen[1]} cannot be combined")
    limits = dict(max_states=args.max_states, max_depth=max_depth, time_limit=args.time_limit)
    if args.swarm:
        if args.symmetry:
            raise UsageError("--swarm and --symmetry cannot be combined")
        from consensuslab.checkers.swarm import check_swarm
        return check_swarm(model, args.swarm, seed=args.seed, workers=args.workers, **limits)
    if args.cluster:
        from consensuslab.checkers.distributed import check_distributed
        return check_distributed(model, args.cluster, symmetry=args.symmetry, **limits)
    canon, reduction = None, None
    if args.symmetry:
        from consensuslab.checkers.symmetry import canonicaliser
        canon, reduction = canonicaliser(model)
    if args.checkpoint:
        from consensuslab.checkers.checkpoint import check_checkpointed
        return check_checkpointed(model, args.checkpoint, canon, reduction=reduction,
                                  progress=not args.quiet, **limits)
    if args.workers > 1 and canon is None:  # the compiled search's threads where the spec compiles
        from consensuslab.checkers.explicit import check
        return check(model, progress=not args.quiet, engine=getattr(args, "engine", "auto"),
                     workers=args.workers, **limits)
    if args.workers > 1:
        from consensuslab.checkers.parallel import check_parallel
        return check_parallel(model, args.workers, canon, progress=not args.quiet, reduction=reduction, **limits)
    from consensuslab.checkers.parallel import check_local
    return check_local(model, canon, reduction=reduction, **limits)
