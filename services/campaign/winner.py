"""Test, then send the winner: a durable timer and the decision.

A campaign with ``winner`` sends its variants to the test share only (delivery keeps the
others ``waiting``). ``afterSeconds`` after its audience was resolved (``started_ms``,
stored), a scheduler pass compares the variants on the chosen metric among the test's
recipients with ``lift.pick_winner`` (each challenger against variant A at the chosen
confidence, Bonferroni-adjusted), stores the decision with its numbers on the campaign
and publishes ``WinnerChosen``: delivery sends the winner — or variant A when no
variant is better with that confidence — to the waiting customers.

The timer is the stored start plus the stored wait, read by every pass: a restarted
worker finds a due decision on its first pass. The decision is stored first (once: a
conditional write) and marked published after the entry is out, so a crash in between
publishes it again, never decides twice.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from libs.common.background import run_every
from libs.common.events import WinnerChosen
from libs.common.logging import get_logger
from libs.common.streams import StreamProducer
from services.campaign import lift
from services.campaign.attribution_store import AttributionStore
from services.campaign.clock import to_ms, utc_now
from services.campaign.results import revenue_per_customer
from services.campaign.store import CampaignStore

log = get_logger(__name__)

Doc = dict[str, Any]


def counts_of_test(
    campaign: Doc, attribution: AttributionStore, metric: str
) -> list[lift.VariantCounts]:
    """Successes and recipients per variant among the messages sent so far (the test)."""
    cid = campaign["_id"]
    converted = revenue_per_customer(attribution.conversions_of(cid))
    counts = []
    for variant in campaign["experiment"]["variants"]:
        vid = variant["id"]
        recipients = attribution.count(cid, vid, field="sent_ms")
        if metric == "deliveryRate":
            successes = attribution.count(cid, vid, field="touched_ms")
        else:
            successes = len(converted.get(vid, []))
        counts.append(lift.VariantCounts(vid, min(successes, recipients), recipients))
    return counts


def decide(counts: list[lift.VariantCounts], metric: str, confidence: float) -> Doc:
    """The decision document (as the API shows it)."""
    figures = {
        c.variant_id: {
            "recipients": c.recipients,
            "successes": c.successes,
            "rate": c.successes / c.recipients if c.recipients else 0.0,
        }
        for c in counts
    }
    control = counts[0].variant_id
    base: Doc = {"metric": metric, "figures": figures}
    if any(c.recipients == 0 for c in counts):
        return {
            **base,
            "send": control,
            "winner": None,
            "confidence": confidence,
            "reason": "a variant reached nobody in the test: sending the control",
        }
    result = lift.pick_winner(counts, confidence)
    comparisons = {
        vid: {
            "absolute": c.absolute,
            "low": c.low,
            "high": c.high,
            "pValue": c.p_value,
            "significant": c.low > 0,
        }
        for vid, c in result.comparisons.items()
    }
    if result.winner is None:
        reason = (
            f"no variant is better than {control} with {confidence:.0%} confidence: "
            f"sending {control}"
        )
    else:
        better = result.comparisons[result.winner]
        reason = (
            f"{result.winner} beats {control} by {better.absolute:+.2%} "
            f"({better.low:+.2%} to {better.high:+.2%}) with {result.confidence:.1%} "
            "confidence (Bonferroni-adjusted)"
        )
    return {
        **base,
        "send": result.send,
        "winner": result.winner,
        "confidence": confidence,
        "adjustedConfidence": result.confidence,
        "comparisons": comparisons,
        "reason": reason,
    }


class WinnerPicker:
    def __init__(
        self, store: CampaignStore, attribution: AttributionStore, producer: StreamProducer
    ) -> None:
        self.store = store
        self.attribution = attribution
        self.producer = producer

    def tick(self, now: datetime) -> list[str]:
        """Decide every due test; publish decisions not yet published. Returns the ids
        decided in this pass."""
        decided = []
        for doc in self.store.awaiting_winner():
            setup = doc["experiment"]
            started = doc.get("started_ms")
            if started is None or started + setup["winner"]["after_s"] * 1000 > to_ms(now):
                continue
            metric, confidence = setup["winner"]["metric"], setup["winner"]["confidence"]
            decision = decide(counts_of_test(doc, self.attribution, metric), metric, confidence)
            decision["decidedAt"] = now.isoformat().replace("+00:00", "Z")
            if self.store.record_decision(doc["_id"], decision, to_ms(now)) is not None:
                decided.append(doc["_id"])
                log.info("campaign.winner_decided", campaign_id=doc["_id"], **decision)
        for doc in self.store.decided_unpublished():
            decision = doc["experiment"]["decision"]
            message = next(
                v["message"] for v in doc["experiment"]["variants"] if v["id"] == decision["send"]
            )
            self.producer.publish(
                [
                    WinnerChosen(
                        campaign_id=doc["_id"],
                        send=decision["send"],
                        message=message,
                        winner=decision["winner"],
                        metric=decision["metric"],
                        confidence=decision["confidence"],
                        figures=decision["figures"],
                    )
                ]
            )
            self.store.mark(doc["_id"], "decision_published")
        return decided

    def run(self, stop: threading.Event, interval_s: float) -> None:
        if not stop.wait(interval_s):  # the first pass after one interval, as before
            run_every(
                lambda: self.tick(utc_now()), stop, interval_s, failure_event="winner.tick_failed"
            )
