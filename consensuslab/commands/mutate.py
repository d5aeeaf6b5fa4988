"""``consensuslab mutate PROTOCOL``: do the properties catch standard bugs?

Checks the unmodified protocol on the scenario first (it must pass: a
mutant of a failing model proves nothing), then each mutant.  A mutant that
passes with the original's state graph is ``equivalent`` (it changes nothing
here), not a survivor.  Exit 0 when every mutant is killed or equivalent, 12
when one survives (``--allow-survivors``: 0), 3 when none survived but one ran
out of time, 2 for bad input.
"""

from __future__ import annotations

from consensuslab.commands.options import add_model_options, positive_float
from consensuslab.commands.output import print_json
from consensuslab.errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_SAFETY, UsageError


def register(sub) -> None:
    p = sub.add_parser("mutate", help="mutation self-check: weaken the protocol, expect the checks to fail",
                       description="Apply standard weakenings (quorum size minus one, counting messages "
                                   "instead of distinct senders, forgetting durable fields, the declared "
                                   "broken variants and mutations) and report mutants that still pass; one with "
                                   "the original's state graph is reported equivalent. Exit codes: 0 all killed "
                                   "or equivalent, 12 a mutant survived, 3 incomplete, 2 bad input.")
    add_model_options(p)
    p.add_argument("--time-limit", type=positive_float, metavar="SECONDS", help="per mutant (and the baseline)")
    p.add_argument("--only", action="append", metavar="MUTANT", help="run only this mutant (repeatable)")
    p.add_argument("--allow-survivors", action="store_true", help="report survivors but exit 0")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def default_scenario(cls):
    """The first scenario that is expected to pass with the unmodified protocol, if any."""
    return next((s for s in cls.scenarios if s.expect == "ok" and not s.variant), None)


def run(args) -> int:
    from consensuslab.checkers.search.lint import lint
    from consensuslab.checkers.variants.expect import run_model
    from consensuslab.checkers.variants.mutate import EQUIVALENT, INCOMPLETE, SURVIVED, mutants, run_mutants
    from consensuslab.commands.options import protocol_class_for, user_defined
    from consensuslab.models.blame import setup_error
    from consensuslab.models.params import parse_assignments

    if args.variant:
        raise UsageError("mutate runs on the unmodified protocol; variants are among its mutants (drop --variant)")
    cls = protocol_class_for(args)
    scenario = cls.scenario_named(args.scenario) if args.scenario else default_scenario(cls)
    params = dict(scenario.params) if scenario else {}
    params.update(parse_assignments(args.param))
    try:
        baseline_model = cls(params, None, scenario).compile()
        found, skipped = mutants(cls, params, scenario)
    except UsageError:
        raise
    except Exception as exc:
        if not user_defined(cls):
            raise
        raise setup_error(cls, exc) from None
    if user_defined(cls):
        lint(baseline_model)
    if args.only:
        unknown = sorted(set(args.only) - {m.name for m in found})
        if unknown:
            raise UsageError(f"no mutant {unknown[0]!r} applies here; mutants: {', '.join(m.name for m in found)}")
        found = [m for m in found if m.name in args.only]
    where = f"{cls.name}" + (f" --scenario {scenario.name}" if scenario else "")
    max_depth = scenario.max_depth if scenario else None
    baseline = run_model(baseline_model, args.time_limit, max_depth=max_depth)
    if baseline.status != "ok":
        what = baseline.violation.property if baseline.violation else baseline.stopped_by
        raise UsageError(f"{where}: the unmodified protocol does not pass ({baseline.status}: {what}); "
                         f"mutation testing needs a scenario that passes (--scenario)")
    if not args.json:
        print(f"{where}: baseline ok ({baseline.distinct_states:,} states); {len(found)} mutants")
    results = run_mutants(found, args.time_limit, max_depth,
                          on_result=None if args.json else lambda r: print(_line(r), flush=True),
                          original=lambda: cls(params, None, scenario).compile())
    survived = [r for r in results if r.verdict == SURVIVED]
    incomplete = [r for r in results if r.verdict == INCOMPLETE]
    killed = sum(1 for r in results if r.verdict == "killed")
    equivalent = sum(1 for r in results if r.verdict == EQUIVALENT)
    if args.json:
        print_json({"protocol": cls.name, "scenario": scenario.name if scenario else None, "params": params,
                    "baseline_states": baseline.distinct_states, "killed": killed, "survived": len(survived),
                    "equivalent": equivalent, "incomplete": len(incomplete), "mutants": [r.to_json() for r in results],
                    "not_applicable": [{"name": n, "reason": why} for n, why in skipped]})
    else:
        for name, why in skipped:
            print(f"  {'n/a':<10} {name:<28} {why}")
        print(f"{killed} killed, {len(survived)} survived, {equivalent} equivalent, {len(incomplete)} incomplete")
        if survived:
            print("a surviving mutant passes every check: strengthen the properties or widen the scenario")
    if survived and not args.allow_survivors:
        return EXIT_SAFETY
    if incomplete and not survived:
        return EXIT_INCOMPLETE
    return EXIT_OK


def _line(r) -> str:
    return f"  {r.verdict.upper():<10} {r.name:<28} {r.message} [{r.states:,} states, {r.seconds:.2f} s]"
