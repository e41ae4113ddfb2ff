"""Did the campaign cause anything? Lift of a variant over a comparison group. Pure.

Two questions, each answered with an estimate and a two-sided interval at the chosen
confidence (95% by default); an interval that contains 0 is "not significant".

Conversion rate (x conversions of n recipients; t = treated variant, c = comparison):

    p_t = x_t / n_t,  p_c = x_c / n_c,  d = p_t - p_c                  (absolute lift)
    SE_d = sqrt(p_t (1 - p_t) / n_t + p_c (1 - p_c) / n_c)            (unpooled, Wald)
    d ± z * SE_d,  z = Phi^-1(1 - alpha / 2)                            (1.96 at 95%)

    The two-proportion z-test's p-value uses the pooled rate p = (x_t + x_c)/(n_t + n_c):
    z0 = d / sqrt(p (1 - p) (1/n_t + 1/n_c)),  p-value = 2 (1 - Phi(|z0|)).

    Relative lift r = p_t / p_c - 1, its interval from the log risk ratio
    (Katz et al. 1978): ln(p_t/p_c) ± z * sqrt(1/x_t - 1/n_t + 1/x_c - 1/n_c),
    exponentiated, minus 1. Undefined (None) while either group has no conversion.

Revenue per recipient (every recipient counts, most with 0): from n, the sum and the
sum of squares of each group, so no per-recipient list is needed:

    mean = S / n,  var = (Q - S^2 / n) / (n - 1)
    d = mean_t - mean_c,  SE_d = sqrt(var_t / n_t + var_c / n_c)        (Welch 1947)
    df = SE_d^4 / ((var_t/n_t)^2 / (n_t - 1) + (var_c/n_c)^2 / (n_c - 1))
    d ± t(1 - alpha/2, df) * SE_d

    The Student t quantile comes from the normal one by the Cornish-Fisher expansion
    (Abramowitz & Stegun 26.7.5): within 3e-4 of the exact value for df >= 5 and 1e-5
    for df >= 10 (campaign groups have hundreds of recipients or more).

One group's rate on its own (the bars of a results chart) takes the Wilson score
interval (Wilson 1927), which stays inside [0, 1] and is sound at 0 conversions:

    (p + z^2/2n ± z sqrt(p (1 - p)/n + z^2/4n^2)) / (1 + z^2/n)

Picking a winner among k variants compares each challenger with the control (A) at
confidence 1 - alpha / (k - 1) (Bonferroni), so testing more variants does not raise
the chance of a false winner; the winner is the significantly better challenger with
the largest lift, and no winner (send A) when none is significantly better.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

DEFAULT_CONFIDENCE = 0.95
_NORMAL = NormalDist()


@dataclass(frozen=True)
class Lift:
    """An estimated difference (treated minus comparison) and its interval."""

    absolute: float
    low: float
    high: float
    relative: float | None
    relative_low: float | None
    relative_high: float | None
    confidence: float
    p_value: float | None = None

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class RevenueSample:
    """One group's revenue per recipient, as sufficient statistics."""

    recipients: int
    total: float
    total_of_squares: float

    @property
    def mean(self) -> float:
        return self.total / self.recipients if self.recipients else 0.0

    @property
    def variance(self) -> float:
        if self.recipients < 2:
            return 0.0
        spread = self.total_of_squares - self.total * self.total / self.recipients
        return max(spread, 0.0) / (self.recipients - 1)

    @classmethod
    def of(cls, revenues: Sequence[float], recipients: int) -> RevenueSample:
        """``revenues`` of the converting recipients; the other recipients spent 0."""
        return cls(recipients, float(sum(revenues)), float(sum(r * r for r in revenues)))


def z_quantile(confidence: float) -> float:
    """The two-sided normal critical value: 1.959964 at 0.95."""
    _check_confidence(confidence)
    return _NORMAL.inv_cdf(1 - (1 - confidence) / 2)


def t_quantile(confidence: float, df: float) -> float:
    """The two-sided Student t critical value for ``df`` degrees of freedom."""
    z = z_quantile(confidence)
    if math.isinf(df):
        return z
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def two_proportion_p_value(x_t: int, n_t: int, x_c: int, n_c: int) -> float:
    """The pooled two-proportion z-test's two-sided p-value."""
    _check_counts(x_t, n_t)
    _check_counts(x_c, n_c)
    pooled = (x_t + x_c) / (n_t + n_c)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    if se == 0:
        return 1.0
    z0 = (x_t / n_t - x_c / n_c) / se
    return 2 * (1 - _NORMAL.cdf(abs(z0)))


def rate_lift(
    x_t: int, n_t: int, x_c: int, n_c: int, confidence: float = DEFAULT_CONFIDENCE
) -> Lift:
    """Conversion-rate lift of ``x_t/n_t`` over ``x_c/n_c``."""
    _check_counts(x_t, n_t)
    _check_counts(x_c, n_c)
    z = z_quantile(confidence)
    p_t, p_c = x_t / n_t, x_c / n_c
    diff = p_t - p_c
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    relative = relative_low = relative_high = None
    if x_t > 0 and x_c > 0:
        log_ratio = math.log(p_t / p_c)
        se_log = math.sqrt(1 / x_t - 1 / n_t + 1 / x_c - 1 / n_c)
        relative = p_t / p_c - 1
        relative_low = math.exp(log_ratio - z * se_log) - 1
        relative_high = math.exp(log_ratio + z * se_log) - 1
    return Lift(
        absolute=diff,
        low=diff - z * se,
        high=diff + z * se,
        relative=relative,
        relative_low=relative_low,
        relative_high=relative_high,
        confidence=confidence,
        p_value=two_proportion_p_value(x_t, n_t, x_c, n_c),
    )


def rate_interval(
    successes: int, trials: int, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[float, float]:
    """The Wilson score interval of ``successes / trials``; (0, 0) for no trials."""
    if trials == 0:
        return 0.0, 0.0
    _check_counts(successes, trials)
    z = z_quantile(confidence)
    p = successes / trials
    centre = p + z * z / (2 * trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    scale = 1 + z * z / trials
    return max((centre - half) / scale, 0.0), min((centre + half) / scale, 1.0)


def revenue_lift(
    treated: RevenueSample, comparison: RevenueSample, confidence: float = DEFAULT_CONFIDENCE
) -> Lift:
    """Revenue-per-recipient lift with a Welch interval."""
    if treated.recipients < 2 or comparison.recipients < 2:
        raise ValueError("each group needs at least 2 recipients")
    a = treated.variance / treated.recipients
    b = comparison.variance / comparison.recipients
    diff = treated.mean - comparison.mean
    se = math.sqrt(a + b)
    if se == 0:
        low = high = diff
    else:
        df = (a + b) ** 2 / (a * a / (treated.recipients - 1) + b * b / (comparison.recipients - 1))
        half = t_quantile(confidence, df) * se
        low, high = diff - half, diff + half
    base = comparison.mean
    return Lift(
        absolute=diff,
        low=low,
        high=high,
        relative=diff / base if base else None,
        relative_low=low / base if base else None,
        relative_high=high / base if base else None,
        confidence=confidence,
    )


@dataclass(frozen=True)
class VariantCounts:
    variant_id: str
    successes: int
    recipients: int


@dataclass(frozen=True)
class WinnerDecision:
    """The variant to send to the rest; ``winner`` is None when none beat the control."""

    send: str
    winner: str | None
    confidence: float
    comparisons: dict[str, Lift]


def pick_winner(
    variants: Sequence[VariantCounts], confidence: float = DEFAULT_CONFIDENCE
) -> WinnerDecision:
    """Compare every challenger with the control (the first variant), Bonferroni-adjusted."""
    if len(variants) < 2:
        raise ValueError("a test needs at least two variants")
    control, challengers = variants[0], variants[1:]
    adjusted = 1 - (1 - confidence) / len(challengers)
    comparisons = {
        v.variant_id: rate_lift(
            v.successes, v.recipients, control.successes, control.recipients, adjusted
        )
        for v in challengers
    }
    better = [(lift.absolute, vid) for vid, lift in comparisons.items() if lift.low > 0]
    winner = max(better)[1] if better else None
    return WinnerDecision(
        send=winner or control.variant_id,
        winner=winner,
        confidence=adjusted,
        comparisons=comparisons,
    )


def _check_counts(successes: int, trials: int) -> None:
    if trials <= 0:
        raise ValueError("a group needs at least one recipient")
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes of {trials} recipients")


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
