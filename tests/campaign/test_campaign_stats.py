"""Pure logic of the campaign figures and the state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.campaign import lifecycle, stats
from services.campaign.tally import MessageState, strongest

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 5, 10, 0, 3, tzinfo=UTC)


def state(mid: str, status: str, reason: str | None = None) -> MessageState:
    return MessageState(mid, "c1", mid, status, T0, reason)


def test_message_key_carries_bucket_and_reason_of_final_receipts() -> None:
    bucket = int(T0.timestamp()) // 10 * 10
    assert stats.message_key("sent", T0) == "sent"
    assert stats.message_key("delivered", T0) == f"delivered|{bucket}"
    assert stats.message_key("failed", T0, "bad  number\n") == f"failed|{bucket}|bad number"
    assert stats.message_key("rejected", T0) == f"rejected|{bucket}|unknown reason"


def test_figures_fold_counts_reasons_and_timeline() -> None:
    b = int(T0.timestamp()) // 10 * 10
    groups = [
        {"_id": "sent", "n": 3},
        {"_id": f"delivered|{b}", "n": 5},
        {"_id": f"delivered|{b + 10}", "n": 2},
        {"_id": f"failed|{b}|blocked|by carrier", "n": 1},
        {"_id": f"rejected|{b + 10}|invalid number", "n": 4},
        {"_id": "cancelled", "n": 6},
        {"_id": "held_out", "n": 8},
        {"_id": "garbage", "n": 99},
    ]
    figures = stats.figures_from_groups(groups)
    assert figures.counts == {
        "sent": 3,
        "delivered": 7,
        "failed": 1,
        "rejected": 4,
        "cancelled": 6,
        "unknown": 0,
        "held_out": 8,
    }
    assert figures.reasons == {"blocked|by carrier": 1, "invalid number": 4}
    assert figures.timeline == {
        b: {"delivered": 5, "failed": 1},
        b + 10: {"delivered": 2, "failed": 4},
    }
    assert stats.stats_doc(figures)["timeline"][0] == {"t": b, "delivered": 5, "failed": 1}


def test_summary_counts_only_vendor_accepted_messages_as_sent() -> None:
    doc = {
        "audience_size": 20,
        "counts": {
            "sent": 2,
            "delivered": 6,
            "failed": 1,
            "rejected": 3,
            "cancelled": 4,
            "unknown": 1,
        },
        "unseen": 1,
    }
    figures = stats.summary(doc)
    assert figures["sent"] == 2 + 6 + 1 + 1
    assert figures["failed"] == 4
    assert figures["unknown"] == 2
    assert figures["pending"] == 20 - (6 + 4 + 4 + 2)
    assert figures["deliveryRate"] == 60.0
    assert not stats.is_finished(doc)


def test_campaign_without_known_audience_is_never_finished() -> None:
    assert not stats.is_finished({"counts": {"delivered": 3}})
    assert stats.is_finished({"audience_size": 0})


def test_strongest_keeps_the_highest_rank_and_the_first_of_equal_ranks() -> None:
    merged = strongest(
        [
            state("a", "sent"),
            state("a", "delivered"),
            state("a", "sent"),
            state("b", "failed", "x"),
            state("b", "delivered"),
        ]
    )
    assert {s.message_id: s.status for s in merged} == {"a": "delivered", "b": "failed"}


def test_estimated_completion_follows_the_recent_rate() -> None:
    now = T0 + timedelta(seconds=60)
    doc = {
        "status": "running",
        "audience_size": 100,
        "started_ms": int(T0.timestamp() * 1000),
        "counts": {"delivered": 30},
    }
    base = int(now.timestamp()) // 10 * 10
    timeline = [{"t": base - 50 + 10 * i, "delivered": 5, "failed": 0} for i in range(6)]
    eta = stats.estimated_completion(doc, timeline, now)
    assert eta is not None
    assert eta - now == timedelta(seconds=70 * 60 / 30)
    assert stats.estimated_completion({**doc, "status": "paused"}, timeline, now) is None


@pytest.mark.parametrize(
    ("action", "status", "allowed"),
    [
        ("pause", "running", True),
        ("pause", "launching", True),
        ("pause", "paused", False),
        ("resume", "paused", True),
        ("resume", "running", False),
        ("cancel", "scheduled", True),
        ("cancel", "completed", False),
        ("cancel", "cancelled", False),
    ],
)
def test_transition_table(action: str, status: str, allowed: bool) -> None:
    assert (status in lifecycle.TRANSITIONS[action].allowed_from) is allowed


def test_resume_returns_to_running_only_when_the_audience_is_known() -> None:
    assert lifecycle.resumed_status(audience_known=True) == "running"
    assert lifecycle.resumed_status(audience_known=False) == "launching"
