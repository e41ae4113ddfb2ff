"""Variant assignment: deterministic, proportional, independent of the test phase."""

from __future__ import annotations

from collections import Counter

import pytest

from libs.common.assignment import HOLDOUT, Split, assign, bucket, shares_from_percent

pytestmark = pytest.mark.unit

CUSTOMERS = [f"c{i}" for i in range(20_000)]


def test_the_same_pair_always_gets_the_same_group() -> None:
    split = Split(variants=(("A", 5000), ("B", 5000)), holdout_bp=1000)
    first = [assign(split, "cmp_1", c) for c in CUSTOMERS[:2000]]
    again = [assign(split, "cmp_1", c) for c in CUSTOMERS[:2000]]
    assert first == again


def test_groups_follow_their_shares() -> None:
    split = Split(variants=(("A", 7000), ("B", 3000)), holdout_bp=1000)
    counts = Counter(assign(split, "cmp_2", c).group for c in CUSTOMERS)
    assert counts[HOLDOUT] / len(CUSTOMERS) == pytest.approx(0.10, abs=0.01)
    messaged = len(CUSTOMERS) - counts[HOLDOUT]
    assert counts["A"] / messaged == pytest.approx(0.70, abs=0.015)
    assert counts["B"] / messaged == pytest.approx(0.30, abs=0.015)


def test_campaigns_split_the_same_customers_differently() -> None:
    split = Split(variants=(("A", 5000), ("B", 5000)))
    one = [assign(split, "cmp_a", c).group for c in CUSTOMERS[:1000]]
    two = [assign(split, "cmp_b", c).group for c in CUSTOMERS[:1000]]
    assert 400 < sum(x != y for x, y in zip(one, two, strict=True)) < 600


def test_the_test_phase_is_independent_of_the_group() -> None:
    split = Split(variants=(("A", 5000), ("B", 5000)), holdout_bp=1000, test_bp=2000)
    assignments = [assign(split, "cmp_3", c) for c in CUSTOMERS]
    in_test = [a for a in assignments if a.in_test]
    assert len(in_test) / len(CUSTOMERS) == pytest.approx(0.20, abs=0.01)
    holdout_in_test = sum(a.held_out for a in in_test) / len(in_test)
    assert holdout_in_test == pytest.approx(0.10, abs=0.02)


def test_without_a_test_phase_everyone_is_in_it() -> None:
    split = Split(variants=(("A", BASIS_POINTS_ALL),))
    assert all(assign(split, "cmp_4", c).in_test for c in CUSTOMERS[:100])


BASIS_POINTS_ALL = 10_000


def test_buckets_are_in_range_and_salted() -> None:
    values = [bucket("cmp", c, "group") for c in CUSTOMERS[:1000]]
    assert all(0 <= v < 10_000 for v in values)
    assert values != [bucket("cmp", c, "phase") for c in CUSTOMERS[:1000]]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"variants": ()},
        {"variants": (("A", 5000), ("A", 5000))},
        {"variants": (("holdout", 10_000),)},
        {"variants": (("A", 5000), ("B", 4000))},
        {"variants": (("A", 10_000), ("B", 0))},
        {"variants": (("A", 10_000),), "holdout_bp": 10_000},
        {"variants": (("A", 10_000),), "test_bp": 0},
    ],
)
def test_bad_splits_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Split(**kwargs)  # type: ignore[arg-type]


def test_percentages_become_basis_points_that_add_up() -> None:
    assert shares_from_percent([50, 50]) == [5000, 5000]
    assert sum(shares_from_percent([33.33, 33.33, 33.33])) == 10_000
    assert shares_from_percent([60, 30]) == [6000, 3000]  # wrong total left for the check
