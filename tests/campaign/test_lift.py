"""The lift statistics against textbook values and by simulation."""

from __future__ import annotations

import math
from statistics import fmean, variance

import numpy as np
import pytest

from services.campaign.lift import (
    RevenueSample,
    VariantCounts,
    pick_winner,
    rate_lift,
    revenue_lift,
    t_quantile,
    two_proportion_p_value,
    z_quantile,
)

pytestmark = pytest.mark.unit


def test_normal_critical_value_is_1_96_at_95_percent() -> None:
    assert z_quantile(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert z_quantile(0.99) == pytest.approx(2.575829, abs=1e-6)


@pytest.mark.parametrize(
    ("df", "table"),
    [(5, 2.570582), (10, 2.228139), (30, 2.042272), (120, 1.979930), (math.inf, 1.959964)],
)
def test_t_critical_values_match_the_table(df: float, table: float) -> None:
    assert t_quantile(0.95, df) == pytest.approx(table, abs=3e-4)


def test_two_proportion_test_matches_the_chi_square_of_a_2x2_table() -> None:
    # 45/100 against 30/100: chi-square (no continuity correction) 4.8, p = 0.02846.
    assert two_proportion_p_value(45, 100, 30, 100) == pytest.approx(0.028459, abs=1e-6)


def test_rate_lift_is_the_difference_with_a_wald_interval() -> None:
    lift = rate_lift(45, 100, 30, 100)
    assert lift.absolute == pytest.approx(0.15)
    half = 1.959964 * math.sqrt(0.45 * 0.55 / 100 + 0.30 * 0.70 / 100)
    assert (lift.low, lift.high) == pytest.approx((0.15 - half, 0.15 + half), abs=1e-6)
    assert lift.relative == pytest.approx(0.5)
    # log risk ratio interval: ln(1.5) ± 1.96 * sqrt(1/45 - 1/100 + 1/30 - 1/100)
    se_log = math.sqrt(1 / 45 - 1 / 100 + 1 / 30 - 1 / 100)
    assert lift.relative_low == pytest.approx(1.5 * math.exp(-1.959964 * se_log) - 1, abs=1e-6)
    assert lift.significant


def test_an_interval_that_crosses_zero_is_not_significant() -> None:
    lift = rate_lift(33, 100, 30, 100)
    assert lift.low < 0 < lift.high
    assert not lift.significant


def test_relative_lift_is_undefined_without_conversions() -> None:
    lift = rate_lift(5, 100, 0, 100)
    assert lift.relative is None and lift.relative_low is None


def test_revenue_lift_equals_welch_on_the_raw_values() -> None:
    treated = [0.0] * 40 + [120.0, 80.0, 300.0, 55.5, 10.0]
    control = [0.0] * 50 + [90.0, 20.0]
    lift = revenue_lift(
        RevenueSample.of([r for r in treated if r], len(treated)),
        RevenueSample.of([r for r in control if r], len(control)),
    )
    a, b = variance(treated) / len(treated), variance(control) / len(control)
    df = (a + b) ** 2 / (a * a / (len(treated) - 1) + b * b / (len(control) - 1))
    half = t_quantile(0.95, df) * math.sqrt(a + b)
    diff = fmean(treated) - fmean(control)
    assert lift.absolute == pytest.approx(diff)
    assert (lift.low, lift.high) == pytest.approx((diff - half, diff + half))
    assert lift.relative == pytest.approx(diff / fmean(control))


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        rate_lift(5, 0, 1, 10)
    with pytest.raises(ValueError):
        rate_lift(11, 10, 1, 10)
    with pytest.raises(ValueError):
        z_quantile(1.5)


def test_an_a_a_test_is_significant_about_five_percent_of_the_time() -> None:
    rng = np.random.default_rng(20261203)
    runs, n, rate = 2000, 2000, 0.05
    treated = rng.binomial(n, rate, size=runs)
    control = rng.binomial(n, rate, size=runs)
    flagged = sum(
        rate_lift(int(t), n, int(c), n).significant for t, c in zip(treated, control, strict=True)
    )
    assert 0.03 <= flagged / runs <= 0.07, flagged


def test_an_a_a_revenue_test_is_significant_about_five_percent_of_the_time() -> None:
    rng = np.random.default_rng(7)
    runs, n, rate = 2000, 1000, 0.1
    flagged = 0
    for _ in range(runs):
        samples = []
        for _group in range(2):
            buyers = rng.binomial(n, rate)
            spend = rng.lognormal(mean=7.0, sigma=0.6, size=buyers)
            samples.append(RevenueSample(n, float(spend.sum()), float((spend**2).sum())))
        flagged += revenue_lift(samples[0], samples[1]).significant
    assert 0.03 <= flagged / runs <= 0.07, flagged


def test_a_planted_better_variant_wins() -> None:
    decision = pick_winner(
        [
            VariantCounts("A", 100, 2000),
            VariantCounts("B", 160, 2000),
            VariantCounts("C", 105, 2000),
        ]
    )
    assert decision.winner == "B" and decision.send == "B"
    assert decision.confidence == pytest.approx(0.975)
    assert decision.comparisons["B"].significant


def test_equal_variants_have_no_winner_and_send_the_control() -> None:
    decision = pick_winner([VariantCounts("A", 100, 2000), VariantCounts("B", 104, 2000)])
    assert decision.winner is None
    assert decision.send == "A"


def test_a_worse_challenger_never_wins() -> None:
    decision = pick_winner([VariantCounts("A", 200, 2000), VariantCounts("B", 100, 2000)])
    assert decision.winner is None and decision.send == "A"


def test_wilson_interval_of_a_single_rate() -> None:
    from services.campaign.lift import rate_interval

    # 0 of 10: the upper bound is z^2 / (n + z^2) = 0.2775 (Wilson 1927).
    assert rate_interval(0, 10) == pytest.approx((0.0, 0.277533), abs=1e-6)
    # 50 of 100: 0.4038 to 0.5962 (Newcombe 1998, table I method 3).
    assert rate_interval(50, 100) == pytest.approx((0.403832, 0.596168), abs=1e-6)
    assert rate_interval(0, 0) == (0.0, 0.0)
