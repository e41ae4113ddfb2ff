"""Which variant of a campaign a customer gets: deterministic, so it never moves.

A customer's place is a seeded hash of (campaign, customer): the same pair gives the
same answer in every process, on every retry and after every resume, with nothing to
look up. Two independent hashes decide two things:

- the group: the holdout (never messaged) for the first ``holdout_share`` of the hash
  range, then each variant for its share of the rest, in the order given;
- the phase, when a campaign tests before sending the winner: a customer whose second
  hash falls in the first ``test_share`` is in the test (gets their variant now); the
  others wait for the winner. Holdout customers are held out in both phases.

Shares are given in basis points (1/100 of a percent) so that they add up exactly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

BASIS_POINTS = 10_000
HOLDOUT = "holdout"


@dataclass(frozen=True)
class Split:
    """Variants with their shares of the messaged audience, and the holdout share."""

    variants: tuple[tuple[str, int], ...]  # (variant id, basis points of the messaged)
    holdout_bp: int = 0
    test_bp: int | None = None  # None: no test phase, every variant goes at once

    def __post_init__(self) -> None:
        if not self.variants:
            raise ValueError("a split needs at least one variant")
        ids = [variant_id for variant_id, _ in self.variants]
        if len(set(ids)) != len(ids) or HOLDOUT in ids:
            raise ValueError("variant ids must be unique and not 'holdout'")
        if sum(bp for _, bp in self.variants) != BASIS_POINTS:
            raise ValueError("variant shares must add up to 100%")
        if any(bp <= 0 for _, bp in self.variants):
            raise ValueError("every variant needs a share above 0")
        if not 0 <= self.holdout_bp < BASIS_POINTS:
            raise ValueError("the holdout share must be at least 0% and below 100%")
        if self.test_bp is not None and not 0 < self.test_bp < BASIS_POINTS:
            raise ValueError("the test share must be above 0% and below 100%")


@dataclass(frozen=True)
class Assignment:
    group: str  # a variant id, or HOLDOUT
    in_test: bool  # True when there is no test phase

    @property
    def held_out(self) -> bool:
        return self.group == HOLDOUT


def bucket(campaign_id: str, customer_id: str, salt: str) -> int:
    """A stable number in [0, BASIS_POINTS) for this campaign, customer and purpose."""
    digest = hashlib.blake2b(
        f"{salt}\x1f{campaign_id}\x1f{customer_id}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big") % BASIS_POINTS


def assign(split: Split, campaign_id: str, customer_id: str) -> Assignment:
    in_test = split.test_bp is None or bucket(campaign_id, customer_id, "phase") < split.test_bp
    point = bucket(campaign_id, customer_id, "group")
    if point < split.holdout_bp:
        return Assignment(HOLDOUT, in_test)
    # Stretch the rest of the range over the variants' shares.
    scaled = (point - split.holdout_bp) * BASIS_POINTS // (BASIS_POINTS - split.holdout_bp)
    edge = 0
    for variant_id, share in split.variants:
        edge += share
        if scaled < edge:
            return Assignment(variant_id, in_test)
    return Assignment(split.variants[-1][0], in_test)  # unreachable: shares add to 100%


def shares_from_percent(percents: Sequence[float]) -> list[int]:
    """Percentages (as people type them) to basis points that add up to exactly 100%."""
    raw = [round(p * 100) for p in percents]
    if raw and abs(sum(raw) - BASIS_POINTS) <= len(raw):
        raw[-1] += BASIS_POINTS - sum(raw)  # absorb rounding, e.g. 33.33 x 3
    return raw
