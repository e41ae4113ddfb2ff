"""Campaign performance summary from the read model: pure functions of documents."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

BELOW_AVERAGE_POINTS = 0.10  # a rate this far under the account average is unusual
DOMINANT_REASON_SHARE = 0.6
MIN_FAILURES_FOR_PATTERN = 5
SLOW_FACTOR = 2.0


@dataclass(frozen=True)
class AccountRates:
    """Delivery counts of the account's other campaigns: {campaign id: (delivered, attempted)}."""

    by_campaign: dict[str, tuple[int, int]]
    durations_s: list[float]

    def average_rate(self, exclude: str) -> float | None:
        rates = [d / a for cid, (d, a) in self.by_campaign.items() if cid != exclude and a > 0]
        return sum(rates) / len(rates) if rates else None

    def average_duration(self) -> float | None:
        return sum(self.durations_s) / len(self.durations_s) if self.durations_s else None


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def _count(n: float, unit: str, digits: int = 0) -> str:
    """ "1 second", "2 seconds", "1.5 hours": the unit agrees with the number shown."""
    shown = f"{n:.{digits}f}"
    return f"{shown} {unit}" if float(shown) == 1 else f"{shown} {unit}s"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return _count(max(seconds, 1), "second")
    if seconds < 5400:
        return _count(seconds / 60, "minute")
    return _count(seconds / 3600, "hour", 1)


# Failure reasons a marketer must hear about even when they are few: they hurt the
# sender's standing with mailbox providers, not just one message.
SENDER_HARM = ("spam", "blocked", "complaint")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def campaign_metrics(campaign: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
    statuses = Counter(m.get("status", "SENT") for m in messages)
    reasons = Counter(m.get("reason", "unknown") for m in messages if m.get("status") == "FAILED")
    completed = campaign.get("completed") or {}
    if not messages and completed:  # the read model joined late: trust the completion
        statuses = Counter(
            {
                "DELIVERED": completed.get("delivered", 0),
                "FAILED": completed.get("failed", 0),
                "CANCELLED": completed.get("cancelled", 0),
                "SENT": completed.get("unknown", 0),
            }
        )
    attempted = statuses["DELIVERED"] + statuses["FAILED"] + statuses["SENT"]
    sent_times = [m["sent_at"] for m in messages if m.get("sent_at")]
    final_times = [m["final_at"] for m in messages if m.get("final_at")]
    started = campaign.get("started_at") or (min(sent_times) if sent_times else None)
    finished = campaign.get("completed_at") or (max(final_times) if final_times else None)
    duration = (finished - started).total_seconds() if started and finished else None
    audience = campaign.get("audience_total") or completed.get("audience_size")
    return {
        "audienceSize": audience,
        "messages": attempted + statuses["CANCELLED"],
        "delivered": statuses["DELIVERED"],
        "failed": statuses["FAILED"],
        "pending": statuses["SENT"],
        "cancelled": statuses["CANCELLED"],
        "deliveryRate": round(statuses["DELIVERED"] / attempted, 4) if attempted else None,
        "failuresByReason": dict(reasons.most_common()),
        "startedAt": _iso(started),
        "completedAt": _iso(campaign.get("completed_at")),
        "timeToCompleteSeconds": round(duration, 1)
        if duration is not None and campaign.get("completed_at")
        else None,
        "status": campaign.get("status", "running" if attempted else "created"),
    }


def summarise(
    campaign_id: str, campaign: dict[str, Any], metrics: dict[str, Any], account: AccountRates
) -> tuple[str, list[str], dict[str, Any]]:
    """(summary text, highlights, metrics with the account comparison added)."""
    average = account.average_rate(exclude=campaign_id)
    metrics = {**metrics, "accountAverageRate": round(average, 4) if average is not None else None}
    rate = metrics["deliveryRate"]
    name = campaign.get("name") or campaign_id
    highlights: list[str] = []
    unusual: list[str] = []

    if rate is None:
        text = f"Campaign '{name}' has no delivery results yet."
    else:
        text = (
            f"Campaign '{name}' reached {metrics['delivered']:,} of "
            f"{metrics['delivered'] + metrics['failed'] + metrics['pending']:,} customers "
            f"({_pct(rate)} delivered)"
        )
        if average is not None:
            diff = rate - average
            side = "above" if diff > 0.005 else "below" if diff < -0.005 else "in line with"
            text += f", {side} the account average of {_pct(average)}"
            if diff <= -BELOW_AVERAGE_POINTS:
                unusual.append(
                    f"delivery rate is {abs(diff) * 100:.0f} points below the account average"
                )
        text += "."
    if metrics["pending"]:
        highlights.append(f"{metrics['pending']:,} messages still await a delivery receipt")
    if metrics["cancelled"]:
        highlights.append(f"{metrics['cancelled']:,} messages were cancelled before sending")

    reasons = metrics["failuresByReason"]
    if reasons:
        top, count = next(iter(reasons.items()))
        share = count / max(metrics["failed"], 1)
        by_reason = ", ".join(f"{r} ({n})" for r, n in list(reasons.items())[:5])
        highlights.append(f"failures by reason: {by_reason}")
        text += f" {metrics['failed']:,} failed: {by_reason}."
        if metrics["failed"] >= MIN_FAILURES_FOR_PATTERN and share >= DOMINANT_REASON_SHARE:
            unusual.append(f"one reason dominates the failures: '{top}' ({share:.0%})")
        harmful = sum(n for r, n in reasons.items() if any(w in r.lower() for w in SENDER_HARM))
        if harmful:
            noun = "message was" if harmful == 1 else "messages were"
            unusual.append(
                f"{harmful:,} {noun} rejected as spam or blocked: review the wording and "
                "the sender before the next send"
            )

    seconds = metrics["timeToCompleteSeconds"]
    if seconds is not None:
        highlights.append(f"completed in {_duration(seconds)}")
        typical = account.average_duration()
        if typical and len(account.durations_s) >= 2 and seconds > SLOW_FACTOR * typical:
            unusual.append(
                f"slow completion: {_duration(seconds)} against a typical {_duration(typical)}"
            )
    if campaign.get("auto_paused_reason"):
        unusual.append(f"it was paused automatically: {campaign['auto_paused_reason']}")

    if unusual:
        text += " Unusual: " + "; ".join(unusual) + "."
        highlights.extend(f"unusual: {u}" for u in unusual)
    elif rate is not None:
        text += " Nothing unusual stands out."
    return text, highlights, metrics
