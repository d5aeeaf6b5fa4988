"""An actor protocol we did not write (the newcomer's Chang-Roberts ring election, a user file): the packed
actor search gives the interpreted search's counts, verdicts and counterexample on every scenario, its broken
variant and other rings."""

from pathlib import Path

import pytest

from consensuslab.checkers.variants.expect import scenario_names
from consensuslab.loader import load_file

from actor_fixtures import assert_same

RING = Path(__file__).resolve().parents[2] / "protocols" / "newcomer" / "chang_roberts.py"


def ring():
    return load_file(str(RING))


@pytest.mark.parametrize("scenario", scenario_names(ring()))
def test_every_scenario_agrees(scenario):
    cls = ring()
    fast = assert_same(lambda: cls.configure(scenario=scenario).compile())
    if scenario == "forward-smaller":
        assert fast.status == "violation" and fast.violation.property == "the_largest_leads"
    else:
        assert fast.status == "ok"


@pytest.mark.parametrize("ids", [(5, 2, 7), (3, 1, 4, 2, 5)])
@pytest.mark.parametrize("variant", [None, "forward-smaller"])
def test_other_rings_agree(ids, variant):
    cls = ring()
    fast = assert_same(lambda: cls.configure(params={"ids": ids}, variant=variant).compile())
    assert fast.status == ("ok" if variant is None else "violation")
    assert fast.distinct_states > (1000 if len(ids) == 5 and variant is None else 10)
