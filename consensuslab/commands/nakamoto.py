"""``consensuslab nakamoto race --q 0.1 --z 0..10 [--simulate N] [--seed S] [--json]``.

Prints, per z, the attacker's chance of catching up: the Bitcoin paper's figure,
the exact value, and optionally an estimate from N seeded races run on the
``nakamoto`` model with its 95% Wilson interval.
"""

from __future__ import annotations

import json

from consensuslab.analyses.race import parse_z, race_table
from consensuslab.commands.options import add_limit_options, time_left
from consensuslab.errors import EXIT_INCOMPLETE, EXIT_OK, UsageError

#: beyond z = 200 both probabilities are below 1e-15, under the float noise of the whitepaper's sum
MAX_Z = 200
MAX_RACES = 1_000_000


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "nakamoto", help="proof-of-work analyses beyond model checking",
        description="Analyses of Nakamoto consensus that need probabilities, not only reachability.")
    verbs = p.add_subparsers(dest="nakamoto_command", metavar="VERB", parser_class=type(p))
    race = verbs.add_parser(
        "race", help="probability that an attacker z blocks behind ever catches up",
        description="The double-spend race of section 11 of the Bitcoin paper: the paper's Poisson "
                    "figure, the exact negative-binomial value and, with --simulate, an estimate "
                    "from races run on the nakamoto model.")
    race.add_argument("--q", type=float, required=True, help="the attacker's share of the hash power, in (0, 0.5)")
    race.add_argument("--z", default="0..10", help="blocks the attacker is behind: N, A..B or A..B:STEP (default 0..10)")
    race.add_argument("--simulate", type=int, default=0, metavar="N", help="simulated races per z (default 0: none)")
    race.add_argument("--seed", type=int, default=0, metavar="S", help="random seed of the simulation (default 0)")
    race.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    add_limit_options(race)
    race.set_defaults(handler=run)
    p.set_defaults(handler=_missing_verb)


def _missing_verb(args) -> int:
    raise UsageError("nakamoto: expected a verb: race")


def run(args) -> int:
    from consensuslab.checkers.search.limits import STOPS, LimitReached, interrupted_by, watchdog

    if not 0 <= args.simulate <= MAX_RACES:
        raise UsageError(f"--simulate {args.simulate}: the number of runs must be between 0 and {MAX_RACES:,}")
    zs = _bounded_z(args.z)
    try:
        with watchdog(time_left(args)):
            table = race_table(args.q, zs, args.simulate, args.seed)
    except STOPS as exc:
        if not isinstance(exc, (LimitReached, MemoryError)):
            raise  # Ctrl-C: the command line says so, and exits 130
        print(f"unknown: the {interrupted_by(exc)} was reached before the table was complete")
        return EXIT_INCOMPLETE
    if args.json:
        print(json.dumps(table))
    else:
        _print(table, args.simulate)
    return EXIT_OK


def _bounded_z(text: str) -> list[int]:
    """``--z`` parsed, refused beyond ``MAX_Z`` (checked on the text, before any list is built)."""
    import re

    if any(len(n) > 4 or int(n) > MAX_Z for n in re.findall(r"\d+", text.split(":")[0])):
        raise UsageError(f"--z {text!r}: z must be at most {MAX_Z} (beyond it both probabilities are below "
                         f"1e-15)")
    return parse_z(text)


def _print(table: dict, runs: int) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console(highlight=False, soft_wrap=True)
    t = Table(title=f"attacker with q = {table['q']} catching up from z blocks behind")
    for col in ("z", "whitepaper", "exact") + (("simulated", "95% CI") if runs else ()):
        t.add_column(col, justify="right")
    for row in table["rows"]:
        cells = [str(row["z"]), f"{row['whitepaper']:.7f}", f"{row['exact']:.7f}"]
        if runs:
            low, high = row["ci95"]
            cells += [f"{row['simulated']:.4f}", f"[{low:.4f}, {high:.4f}]"]
        t.add_row(*cells)
    out.print(t)
    if runs:
        first = table["rows"][0]
        out.print(f"{runs} races per z on the nakamoto model; a race is lost {first['cutoff']} blocks "
                  f"behind, which biases the estimate low by at most {first['bias_bound']:.1e}.")
