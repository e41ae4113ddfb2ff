"""A campaign's A/B set-up: request shapes, their validation (clear 422s) and the
``experiment`` document stored on the campaign. Pure.

Shares are percentages on the wire (``50``, ``33.33``, holdout ``10``) and basis points
inside (libs.common.assignment). A variant's share is of the messaged customers (the
audience minus the holdout).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from libs.common.assignment import BASIS_POINTS, HOLDOUT, Split, shares_from_percent
from libs.common.errors import ValidationFailed
from libs.common.events import Experiment, VariantSpec
from libs.common.templates import parse_template

MIN_VARIANTS, MAX_VARIANTS = 2, 5
METRICS = ("deliveryRate", "conversionRate")
DEFAULT_ATTRIBUTION_DAYS = 7


class VariantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_-]+$")
    message: str = Field(min_length=1, max_length=2000)
    share: float = Field(gt=0, le=100)


class WinnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    metric: Literal["deliveryRate", "conversionRate"]
    test_share: float = Field(alias="testShare", gt=0, lt=100)
    after_seconds: int = Field(alias="afterSeconds", ge=1, le=30 * 24 * 3600)
    confidence: float = Field(0.95, gt=0.5, lt=1)


def _fail(message: str, field: str, why: str) -> ValidationFailed:
    return ValidationFailed(message, [{"field": field, "message": why}], code="invalid_experiment")


def build(
    variants: list[VariantIn] | None,
    holdout_share: float | None,
    winner: WinnerIn | None,
) -> dict[str, Any] | None:
    """The stored ``experiment`` of a campaign, or None for a single-message campaign."""
    if not variants:
        if holdout_share or winner is not None:
            field = "holdoutShare" if holdout_share else "winner"
            raise _fail(f"{field} needs variants", field, "give 2 to 5 variants")
        if variants is not None:
            raise _fail("variants is empty", "variants", "give 2 to 5 variants")
        return None
    if not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
        raise _fail(
            f"a campaign takes {MIN_VARIANTS} to {MAX_VARIANTS} variants, not {len(variants)}",
            "variants",
            f"{MIN_VARIANTS} to {MAX_VARIANTS} variants",
        )
    ids = [v.id for v in variants]
    if len(set(ids)) != len(ids) or HOLDOUT in ids:
        raise _fail("variant ids must be unique and not 'holdout'", "variants", "unique ids")
    total = sum(v.share for v in variants)
    if abs(total - 100) > 0.01 * len(variants):
        raise _fail(
            f"variant shares add up to {total:g}%, not 100%", "variants", "shares add up to 100"
        )
    for index, variant in enumerate(variants):
        try:
            parse_template(variant.message)
        except ValidationFailed as exc:
            exc.details = {
                **(exc.details if isinstance(exc.details, dict) else {}),
                "field": f"variants[{index}].message",
            }
            raise
    holdout = holdout_share or 0.0
    if not 0 <= holdout <= 50:
        raise _fail("holdoutShare must be between 0 and 50 (%)", "holdoutShare", "0 to 50")
    shares = shares_from_percent([v.share for v in variants])
    doc: dict[str, Any] = {
        "variants": [
            {"id": v.id, "message": v.message, "share_bp": bp}
            for v, bp in zip(variants, shares, strict=True)
        ],
        "holdout_bp": round(holdout * 100),
    }
    if winner is not None:
        doc["test_bp"] = round(winner.test_share * 100)
        doc["winner"] = {
            "metric": winner.metric,
            "after_s": winner.after_seconds,
            "confidence": winner.confidence,
        }
    try:
        to_event(doc).split()
    except ValueError as exc:  # what the checks above missed (a share rounding to 0)
        raise _fail(str(exc), "variants", str(exc)) from exc
    return doc


def to_event(doc: dict[str, Any]) -> Experiment:
    """The experiment as entries carry it (``send`` once a winner was chosen)."""
    return Experiment(
        variants=[VariantSpec(**v) for v in doc["variants"]],
        holdout_bp=int(doc.get("holdout_bp", 0)),
        test_bp=doc.get("test_bp"),
        send=(doc.get("decision") or {}).get("send"),
    )


def split_of(doc: dict[str, Any]) -> Split:
    return to_event(doc).split()


def all_fields(messages: list[str]) -> list[str]:
    """Every placeholder any variant uses, first-seen order (the resolver fetches them)."""
    seen: dict[str, None] = {}
    for message in messages:
        for name in parse_template(message).fields:
            seen.setdefault(name, None)
    return list(seen)


def experiment_out(doc: dict[str, Any]) -> dict[str, Any]:
    """The set-up as the API shows it (percentages)."""
    out: dict[str, Any] = {
        "variants": [
            {"id": v["id"], "message": v["message"], "share": v["share_bp"] * 100 / BASIS_POINTS}
            for v in doc["variants"]
        ],
        "holdoutShare": doc.get("holdout_bp", 0) * 100 / BASIS_POINTS,
    }
    if "winner" in doc:
        out["winner"] = {
            "metric": doc["winner"]["metric"],
            "testShare": doc["test_bp"] * 100 / BASIS_POINTS,
            "afterSeconds": doc["winner"]["after_s"],
            "confidence": doc["winner"]["confidence"],
        }
    return out
