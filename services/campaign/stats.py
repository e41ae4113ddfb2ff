"""Campaign figures derived from per-message states. Pure: no I/O.

Every message of a campaign has one state whose rank only moves forward (``sent`` <
any final status), kept with the counters in Redis by ``tally`` (one Lua script moves a
state and its counter together). Each state counts under one grouping key ``k`` that
says everything the figures need about it, so the counters per ``k`` give the
counters, the failure reasons and the timeline at once:

    sent                        accepted by the vendor, no receipt yet
    delivered|<bucket>          delivered; bucket = start of its 10 s window (epoch s)
    failed|<bucket>|<reason>    sent, then a FAILED receipt
    rejected|<bucket>|<reason>  never sent: the vendor refused it for good
    cancelled                   never sent: its campaign was cancelled
    held_out                    never sent: the customer is in the campaign's holdout
    unknown                     sent, but no receipt before the completion timeout

The figures are a function of the per-``k`` counters, never separate increments, so
they stay exact under redelivery, duplicate receipts and a crash between two entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

BUCKET_S = 10
MAX_REASON = 120
RATE_WINDOW_S = 60

SENT_RANK = 1
FINAL_RANK = 2
RANKS = {
    "sent": SENT_RANK,
    "delivered": FINAL_RANK,
    "failed": FINAL_RANK,
    "rejected": FINAL_RANK,
    "cancelled": FINAL_RANK,
    "unknown": FINAL_RANK,
    "held_out": FINAL_RANK,  # a variant campaign's holdout: never messaged
}
FINAL_STATUSES = ("delivered", "failed", "rejected", "cancelled", "unknown", "held_out")


def bucket_of(at: datetime) -> int:
    return int(at.timestamp()) // BUCKET_S * BUCKET_S


def clean_reason(reason: str | None) -> str:
    text = " ".join((reason or "unknown reason").split())
    return text[:MAX_REASON] or "unknown reason"


def message_key(status: str, at: datetime, reason: str | None = None) -> str:
    """The grouping key ``k`` a message's state counts under."""
    if status == "delivered":
        return f"delivered|{bucket_of(at)}"
    if status in ("failed", "rejected"):
        return f"{status}|{bucket_of(at)}|{clean_reason(reason)}"
    return status


@dataclass
class Figures:
    """What a campaign's counters per ``k`` say about it."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RANKS, 0))
    reasons: dict[str, int] = field(default_factory=dict)
    timeline: dict[int, dict[str, int]] = field(default_factory=dict)

    @property
    def finals(self) -> int:
        return sum(self.counts[s] for s in FINAL_STATUSES)


def figures_from_groups(groups: list[dict[str, Any]]) -> Figures:
    """Fold the counters per ``k`` (``Tally.groups``: ``[{"_id": k, "n": count}, ...]``)
    into counters, reasons and timeline."""
    figures = Figures()
    for group in groups:
        key, count = str(group["_id"]), int(group["n"])
        status, _, rest = key.partition("|")
        if status not in figures.counts:
            continue
        figures.counts[status] += count
        if not rest:
            continue
        bucket_text, _, reason = rest.partition("|")
        if status in ("failed", "rejected"):
            figures.reasons[reason] = figures.reasons.get(reason, 0) + count
        if bucket_text.isdigit():
            slot = figures.timeline.setdefault(int(bucket_text), {"delivered": 0, "failed": 0})
            slot["delivered" if status == "delivered" else "failed"] += count
    return figures


def counters_doc(figures: Figures) -> dict[str, int]:
    """The ``counts`` sub-document stored on the campaign."""
    return dict(figures.counts)


def stats_doc(figures: Figures) -> dict[str, Any]:
    """The timeline and failure reasons for ``campaign_stats`` (no empty containers)."""
    doc: dict[str, Any] = {}
    if figures.timeline:
        doc["timeline"] = [
            {"t": t, "delivered": v["delivered"], "failed": v["failed"]}
            for t, v in sorted(figures.timeline.items())
        ]
    if figures.reasons:
        doc["failure_reasons"] = [
            {"reason": r, "n": n} for r, n in sorted(figures.reasons.items(), key=lambda x: -x[1])
        ]
    return doc


# -- the public view of a campaign's numbers -------------------------------------------
def summary(campaign: dict[str, Any]) -> dict[str, Any]:
    """sent/delivered/failed/cancelled/unknown/pending/deliveryRate of a campaign doc."""
    counts = {**dict.fromkeys(RANKS, 0), **(campaign.get("counts") or {})}
    unknown = counts["unknown"] + int(campaign.get("unseen", 0))
    sent = counts["sent"] + counts["delivered"] + counts["failed"] + counts["unknown"]
    failed = counts["failed"] + counts["rejected"]
    audience = campaign.get("audience_size")
    done = counts["delivered"] + failed + counts["cancelled"] + unknown + counts["held_out"]
    pending = max(audience - done, 0) if audience is not None else 0
    rate = round(100.0 * counts["delivered"] / sent, 1) if sent else 0.0
    return {
        "sent": sent,
        "delivered": counts["delivered"],
        "failed": failed,
        "cancelled": counts["cancelled"],
        "unknown": unknown,
        "pending": pending,
        "deliveryRate": rate,
    }


def is_finished(campaign: dict[str, Any]) -> bool:
    """Audience known and every message in a final state."""
    audience = campaign.get("audience_size")
    if audience is None:
        return False
    return int(summary(campaign)["pending"]) == 0


def estimated_completion(
    campaign: dict[str, Any], timeline: list[dict[str, Any]], now: datetime
) -> datetime | None:
    """Now plus what is pending over the rate of final receipts in the last minute."""
    if campaign.get("status") != "running":
        return None
    pending = summary(campaign)["pending"]
    started_ms = campaign.get("started_ms")
    if not pending or started_ms is None:
        return None
    elapsed = now.timestamp() - started_ms / 1000
    window = min(RATE_WINDOW_S, max(elapsed, 1.0))
    since = now.timestamp() - window
    recent = sum(
        slot["delivered"] + slot["failed"] for slot in timeline if slot["t"] + BUCKET_S > since
    )
    if recent <= 0:
        return None
    return now + timedelta(seconds=pending * window / recent)
