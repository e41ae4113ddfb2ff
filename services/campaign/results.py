"""GET /api/campaigns/{id}/results: recipients, deliveries, conversions and revenue per
variant and for the holdout, and the campaign's lift over its holdout (all variants
together, and each variant's own; services.campaign.lift). Counted from the attribution
collections on every request, so the answer moves as orders arrive."""

from __future__ import annotations

from typing import Any

from libs.common.assignment import HOLDOUT
from services.campaign import lift
from services.campaign.attribution_store import AttributionStore

Doc = dict[str, Any]
SINGLE = "A"  # the one "variant" of a campaign without variants


def _group_out(
    group_id: str, recipients: int, delivered: int, revenues: list[float], confidence: float
) -> Doc:
    conversions = len(revenues)
    low, high = lift.rate_interval(min(conversions, recipients), recipients, confidence)
    return {
        "id": group_id,
        "recipients": recipients,
        "delivered": delivered,
        "conversions": conversions,
        "revenue": round(sum(revenues), 2),
        "conversionRate": conversions / recipients if recipients else 0.0,
        "low": low,
        "high": high,
        "revenuePerRecipient": sum(revenues) / recipients if recipients else 0.0,
    }


def _lift_out(result: lift.Lift) -> Doc:
    return {
        "absolute": result.absolute,
        "relative": result.relative,
        "low": result.low,
        "high": result.high,
        "relativeLow": result.relative_low,
        "relativeHigh": result.relative_high,
        "significant": result.significant,
        "confidence": result.confidence,
        "pValue": result.p_value,
    }


def revenue_per_customer(conversions: list[Doc]) -> dict[str | None, list[float]]:
    """Per group: each converting customer's attributed revenue (orders summed)."""
    by_customer: dict[tuple[str | None, str], float] = {}
    for doc in conversions:
        key = (doc.get("group"), doc["customer_id"])
        by_customer[key] = by_customer.get(key, 0.0) + float(doc["amount"])
    groups: dict[str | None, list[float]] = {}
    for (group, _), amount in by_customer.items():
        groups.setdefault(group, []).append(amount)
    return groups


def campaign_results(
    campaign: Doc, store: AttributionStore, confidence: float = lift.DEFAULT_CONFIDENCE
) -> Doc:
    cid = campaign["_id"]
    setup = campaign.get("experiment")
    revenues = revenue_per_customer(store.conversions_of(cid))
    variants: list[Doc] = []
    if setup is None:
        recipients = int(campaign.get("counts", {}).get("sent", 0)) + sum(
            int(campaign.get("counts", {}).get(k, 0)) for k in ("delivered", "failed", "unknown")
        )
        delivered = store.count(cid, None, field="touched_ms")
        variants.append(
            _group_out(SINGLE, recipients, delivered, revenues.get(None, []), confidence)
        )
    else:
        for variant in setup["variants"]:
            vid = variant["id"]
            variants.append(
                _group_out(
                    vid,
                    store.count(cid, vid, field="sent_ms"),
                    store.count(cid, vid, field="touched_ms"),
                    revenues.get(vid, []),
                    confidence,
                )
            )
    out: Doc = {"campaignId": cid, "attributionDays": campaign.get("attribution_days", 7)}
    out["variants"] = variants
    held = store.count(cid, HOLDOUT, field="touched_ms") if setup else 0
    holdout = _group_out(HOLDOUT, held, 0, revenues.get(HOLDOUT, []), confidence)
    out["holdout"] = holdout if setup and setup.get("holdout_bp") else None
    out["lift"] = out["revenueLift"] = None
    treated_n = sum(v["recipients"] for v in variants)
    if out["holdout"] is not None and held > 0 and treated_n > 0:
        treated_x = sum(min(v["conversions"], v["recipients"]) for v in variants)
        out["lift"] = _lift_out(
            lift.rate_lift(
                treated_x, treated_n, min(holdout["conversions"], held), held, confidence
            )
        )
        if treated_n >= 2 and held >= 2:
            treated_rev = [r for v in variants for r in revenues.get(v["id"], [])]
            out["revenueLift"] = _lift_out(
                lift.revenue_lift(
                    lift.RevenueSample.of(treated_rev, treated_n),
                    lift.RevenueSample.of(revenues.get(HOLDOUT, []), held),
                    confidence,
                )
            )
    if out["lift"] is not None:
        for variant in variants:  # each variant against the holdout too
            variant["lift"] = (
                _lift_out(
                    lift.rate_lift(
                        min(variant["conversions"], variant["recipients"]),
                        variant["recipients"],
                        min(holdout["conversions"], held),
                        held,
                        confidence,
                    )
                )
                if variant["recipients"]
                else None
            )
    decision = (setup or {}).get("decision")
    if decision is not None:
        out["winner"] = decision
    return out
