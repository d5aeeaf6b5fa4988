"""``consensuslab check-all``: every protocol's scenarios against their expected outcomes, for CI.

Exit 0 when every expectation is met (an expected violation counts when it is
found and its trace replays), 1 when one is not, 2 for bad input, 3 when the
run was interrupted (Ctrl-C, SIGTERM) before a failure was seen.  Each
scenario runs in a process of its own, bounded by ``--time-limit`` and
``--memory-limit`` (defaults fit CI); one that runs out is ``incomplete``
(reported with the states it covered) and fails the run only with
``--strict``.  ``-j N`` runs N at once, ``--shard I/N`` takes this job's part,
passes are cached (``--cache-dir``), and the report goes where CI reads it:
``--junit``, the GitHub step summary and ``::error`` annotations.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time

from consensuslab.commands.options import add_module_option, non_negative_int, positive_int
from consensuslab.commands.output import print_json

EXIT_UNMET = 1
EXIT_INTERRUPTED = 3


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text}")
    return value


def register(sub) -> None:
    from consensuslab.checkers.variants.cache import DEFAULT_DIR
    from consensuslab.checkers.variants.isolated import DEFAULT_MEMORY_LIMIT, DEFAULT_TIME_LIMIT

    p = sub.add_parser("check-all", help="check every scenario against its expected outcome (CI)",
                       description="Run every registered protocol's scenarios (or those of --protocol) and "
                                   "compare each outcome with the scenario's expectation, including "
                                   "expected violations of broken variants. Each scenario runs in its own "
                                   "process within the time and memory limits. Exit codes: 0 every "
                                   "expectation met, 1 one is not, 2 bad input, 3 interrupted.")
    p.add_argument("--protocol", action="append", default=[], metavar="NAME",
                   help="only this protocol: a name, a file path.py[:Class] or a --module name (repeatable)")
    p.add_argument("--scenario", action="append", default=[], metavar="NAME",
                   help="only scenarios of this name (repeatable)")
    add_module_option(p)
    p.add_argument("--time-limit", type=non_negative_float, default=DEFAULT_TIME_LIMIT, metavar="SECONDS",
                   help=f"per scenario (default {DEFAULT_TIME_LIMIT:.0f}, 0 for none); one that runs out is "
                        "'incomplete', not failed")
    p.add_argument("--memory-limit", type=non_negative_int, default=DEFAULT_MEMORY_LIMIT, metavar="MB",
                   help=f"memory a scenario's process may add, in MB (default {DEFAULT_MEMORY_LIMIT}, 0 for none); "
                        "one that needs more is 'incomplete'")
    p.add_argument("--strict", action="store_true", help="count incomplete scenarios as failures")
    p.add_argument("-j", "--jobs", type=positive_int, default=1, metavar="N",
                   help="run N scenarios at once (default 1)")
    p.add_argument("--shard", metavar="I/N",
                   help="run only the I-th of N deterministic round-robin parts of the scenarios (from 1/N to N/N)")
    p.add_argument("--cache-dir", default=DEFAULT_DIR, metavar="DIR",
                   help="where passing results are kept, keyed on the protocol's source, the scenario and the "
                        f"tool's version (default {DEFAULT_DIR}; delete it to clear)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--clear-cache", action="store_true", help="empty the cache before running")
    p.add_argument("--traces", metavar="DIR", help="write each counterexample as ITF JSON into DIR")
    p.add_argument("--junit", metavar="FILE", help="write a JUnit XML report to FILE")
    p.add_argument("--summary", metavar="FILE",
                   help="append a markdown table of the run to FILE (default: $GITHUB_STEP_SUMMARY when set)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(handler=run)


def run(args) -> int:
    from consensuslab.checkers.variants.cache import ResultCache
    from consensuslab.checkers.variants.isolated import Limits, Runner
    from consensuslab.checkers.variants.plan import build_plan, parse_shard, take_shard
    from consensuslab.errors import UsageError
    from consensuslab.loader import selected_classes
    from consensuslab.render.text import render_outcome

    shard = parse_shard(args.shard) if args.shard else None
    plan = build_plan(selected_classes(args.protocol, args.module), args.scenario)
    if not plan:
        raise UsageError("no scenario matches the selection")
    everything = len(plan)
    if shard:
        plan = take_shard(plan, *shard)
    cache = None if args.no_cache else ResultCache(args.cache_dir)
    if cache is not None and args.clear_cache:
        print(f"check-all: cleared {cache.clear()} cached results from {args.cache_dir}", file=sys.stderr)
    limits = Limits(args.time_limit or None, args.memory_limit or None)
    runner = Runner(limits, jobs=args.jobs, traces_dir=args.traces, cache=cache, describe=render_outcome,
                    on_done=None if args.json else _print_done, on_tick=_print_tick)
    _announce(len(plan), everything, shard, runner, cache)
    started, stamp = time.monotonic(), datetime.datetime.now(datetime.timezone.utc)
    report = runner.run(plan)
    return _report(args, report, plan, time.monotonic() - started, stamp)


def _announce(count: int, everything: int, shard, runner, cache) -> None:
    part = f" (shard {shard[0]}/{shard[1]} of {everything})" if shard else ""
    limits = runner.limits
    memory = "no memory limit"
    if limits.memory_limit:
        memory = f"{limits.memory_limit:,} MB" if runner.isolate else "no memory limit (no fork on this system)"
    bounds = f"{limits.time_limit:g} s" if limits.time_limit else "no time limit"
    where = f"cache {cache.directory}" if cache is not None else "no cache"
    print(f"check-all: {count} scenarios{part}, {runner.jobs if runner.isolate else 1} at a time; per scenario "
          f"{bounds}, {memory}; {where}", file=sys.stderr, flush=True)


def _print_done(out, done: int, total: int) -> None:
    from consensuslab.commands.ci_report import failure_text, line

    print(line(out), flush=True)
    if out.verdict == "fail":
        print(_indent(failure_text(out)), flush=True)


def _print_tick(running: list, done: int, total: int) -> None:
    """A CI log must not look hung: what is running, for how long, in how much memory."""
    now = ", ".join(f"{name} ({seconds:.0f} s" + (f", {mb:,.0f} MB)" if mb else ")") for name, seconds, mb in running)
    print(f"check-all: {done}/{total} done; running {now}", file=sys.stderr, flush=True)


def _report(args, report, plan: list, seconds: float, stamp) -> int:
    from consensuslab.checkers.variants.expect import FAIL, INCOMPLETE, PASS
    from consensuslab.commands.ci_report import annotations, markdown_summary, write_junit

    outcomes = report.finished
    not_run = [f"{cls.name}:{s}" for (cls, s), o in zip(plan, report.outcomes) if o is None]
    counts = {v: sum(1 for o in outcomes if o.verdict == v) for v in (PASS, FAIL, INCOMPLETE)}
    failed = counts[FAIL] + (counts[INCOMPLETE] if args.strict else 0)
    code = EXIT_UNMET if failed else (EXIT_INTERRUPTED if report.interrupted else 0)
    if args.junit:
        write_junit(args.junit, outcomes, args.strict, not_run, stamp)
    summary = args.summary or os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(markdown_summary(outcomes, seconds, args.strict, not_run))
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for note in annotations(outcomes, args.strict):
            print(note, flush=True)
    cached = sum(1 for o in outcomes if o.cached)
    if args.json:
        status = "failed" if failed else ("interrupted" if report.interrupted else "passed")
        print_json({"status": status, "counts": counts, "seconds": round(seconds, 3), "strict": args.strict,
                    "cached": cached, "not_run": not_run, "scenarios": [o.to_json() for o in outcomes]})
        return code
    if report.interrupted:
        print(f"interrupted: {len(outcomes)} of {len(plan)} scenarios finished, {len(not_run)} not run")
    print(f"{len(outcomes)} scenarios: {counts[PASS]} passed, {counts[FAIL]} failed, "
          f"{counts[INCOMPLETE]} incomplete ({seconds:.1f} s, {cached} from the cache)")
    if args.junit:
        print(f"JUnit report written to {args.junit}")
    return code


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)
