"""Which property units share a memo table: merged only where the reached states show it does not multiply keys."""

from types import SimpleNamespace

from consensuslab.checkers.compiled.grouping import plan_groups

LOW, MIDDLE, HIGH = 0b11, 0b11 << 2, 0b11 << 4


def unit(name: str, mask: int):
    return SimpleNamespace(name=name, mask=mask, is_action=False, clause=None, group=None)


def sample_states() -> list[int]:
    """Bits 0-1 and 2-3 vary independently; bits 4-5 always copy bits 0-1."""
    return [low | middle << 2 | low << 4 for low in range(4) for middle in range(4)] * 8


def names(groups) -> list[list[str]]:
    return [[u.name for u in g.units] for g in groups]


def test_independent_units_stay_apart_on_the_sample():
    # the union of LOW and MIDDLE has 16 keys on the sample, four times either unit's
    units = [unit("low", LOW), unit("middle", MIDDLE)]
    assert names(plan_groups(units, 0xFF, [False], sample=sample_states())) == [["low"], ["middle"]]


def test_without_a_sample_units_merge_by_bits_alone():
    units = [unit("low", LOW), unit("middle", MIDDLE)]
    assert names(plan_groups(units, 0xFF, [False])) == [["low", "middle"]]


def test_correlated_units_merge():
    # HIGH copies LOW, so their union has LOW's four keys
    units = [unit("low", LOW), unit("middle", MIDDLE), unit("high", HIGH)]
    assert names(plan_groups(units, 0xFF, [False], sample=sample_states())) == [["low", "high"], ["middle"]]


def test_a_unit_reading_a_subset_merges_with_the_wider_one():
    units = [unit("both", LOW | MIDDLE), unit("low", LOW)]
    groups = plan_groups(units, 0xFF, [False], sample=sample_states())
    assert names(groups) == [["both", "low"]]
    assert groups[0].mask == LOW | MIDDLE


def test_equal_masks_always_share():
    units = [unit("a", LOW), unit("b", LOW)]
    assert names(plan_groups(units, 0xFF, [False], sample=sample_states())) == [["a", "b"]]
