"""Group ``receipt``: statuses move forward only, duplicates are no-ops."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.common.events import CampaignAutoPaused, Receipt, ReceiptsReceived
from libs.common.streams.names import CAMPAIGN_EVENTS, RECEIPT
from tests.delivery.conftest import chunk, publish, read_stream, recipients, rows, run

pytestmark = pytest.mark.integration


def receipt(campaign_id: str, customer_id: str, status: str, reason: str | None = None) -> Receipt:
    return Receipt(
        message_id=f"{campaign_id}:{customer_id}",
        campaign_id=campaign_id,
        customer_id=customer_id,
        vendor_message_id="vm_x",
        status=status,
        at=datetime.now(UTC),
        reason=reason,
    )


def pending(deps, stream: str, group: str) -> int:
    return int(deps.redis.xpending(stream, group)["pending"])


def test_status_never_moves_backwards_and_duplicates_are_no_ops(deps) -> None:
    publish(deps, [chunk("r1", recipients(3))])
    run(deps, "send")
    run(deps, "receipt")  # the MessagesSent entry: ignored by this group
    publish(
        deps,
        [
            ReceiptsReceived(receipts=[receipt("r1", "cu0", "DELIVERED")]),
            ReceiptsReceived(
                receipts=[
                    receipt("r1", "cu0", "FAILED", "late contradiction"),
                    receipt("r1", "cu1", "FAILED", "mailbox full"),
                    receipt("r1", "cu1", "FAILED", "mailbox full"),
                ]
            ),
        ],
    )
    assert run(deps, "receipt") == 2
    publish(deps, [ReceiptsReceived(receipts=[receipt("r1", "cu1", "DELIVERED")])])
    run(deps, "receipt")

    stored = rows(deps, "r1")
    assert stored["r1:cu0"]["status"] == "delivered" and "reason" not in stored["r1:cu0"]
    assert stored["r1:cu1"]["status"] == "failed" and stored["r1:cu1"]["reason"] == "mailbox full"
    assert stored["r1:cu2"]["status"] == "sent"
    assert pending(deps, RECEIPT, "receipt") == 0


def test_a_receipt_that_overtakes_its_row_waits_pending_and_applies_later(deps) -> None:
    publish(deps, [ReceiptsReceived(receipts=[receipt("r2", "cu0", "DELIVERED")])])
    run(deps, "receipt")
    assert pending(deps, RECEIPT, "receipt") == 1  # left for a retry, not lost

    publish(deps, [chunk("r2", recipients(1))])
    run(deps, "send")
    run(deps, "receipt")  # the same consumer name drains its own pending entry first
    assert rows(deps, "r2")["r2:cu0"]["status"] == "delivered"
    assert pending(deps, RECEIPT, "receipt") == 0


def test_failure_rate_over_the_window_auto_pauses_and_holds_the_rest(deps, vendor) -> None:
    publish(deps, [chunk("r3", recipients(30))])
    run(deps, "send")
    failing = [receipt("r3", f"cu{i}", "FAILED", "carrier rejected") for i in range(15)]
    passing = [receipt("r3", f"cu{i}", "DELIVERED") for i in range(15, 20)]
    publish(deps, [ReceiptsReceived(receipts=failing + passing)])
    run(deps, "receipt")

    paused = [e for e in read_stream(deps, CAMPAIGN_EVENTS) if isinstance(e, CampaignAutoPaused)]
    assert len(paused) == 1
    assert paused[0].failure_rate == pytest.approx(0.75)
    assert "failure rate 75% over the last 20 sends" in paused[0].reason
    control = deps.store.get_controls(["r3"])["r3"]
    assert control["state"] == "paused" and control["reason"] == paused[0].reason

    publish(deps, [chunk("r3", recipients(5, start=500), number=1)])
    run(deps, "send")
    stored = rows(deps, "r3")
    later = [stored[f"r3:cu{i}"] for i in range(500, 505)]
    assert {r["status"] for r in later} == {"held"}


def test_only_receipts_this_call_applied_feed_the_auto_pause_window(deps) -> None:
    publish(deps, [chunk("r4", recipients(6))])
    run(deps, "send")
    first = [receipt("r4", f"cu{i}", "DELIVERED") for i in range(3)]
    publish(deps, [ReceiptsReceived(receipts=first)])
    run(deps, "receipt")
    # The same receipts again, two new ones and one for a row not written yet, in one entry.
    later = [receipt("r4", f"cu{i}", "FAILED", "late") for i in range(3)]
    later += [receipt("r4", "cu3", "FAILED", "bounced"), receipt("r4", "cu4", "DELIVERED")]
    later += [receipt("r4", "cu99", "DELIVERED")]
    publish(deps, [ReceiptsReceived(receipts=later)])
    run(deps, "receipt")
    run(deps, "receipt")  # redelivered: cu99 is still unknown, cu3 and cu4 are final already
    window = deps.redis.lrange("delivery:outcomes:r4", 0, -1)
    assert sorted(window) == [b"0", b"0", b"0", b"0", b"1"]  # cu0-2, cu3 (failed), cu4
    stored = rows(deps, "r4")
    assert [stored[f"r4:cu{i}"]["status"] for i in range(6)] == ["delivered"] * 3 + [
        "failed",
        "delivered",
        "sent",
    ]
    assert pending(deps, RECEIPT, "receipt") == 1  # cu99's entry waits for its row


def test_a_row_written_between_the_update_and_the_read_back_still_gets_its_receipt(
    deps,
) -> None:
    publish(deps, [chunk("r5", recipients(2))])
    run(deps, "send")
    sent_rows = rows(deps, "r5")
    late = sent_rows.pop("r5:cu1")
    deps.store.comms.delete_one({"_id": "r5:cu1"})  # as if the send worker had not written it
    real = deps.store.apply_final
    calls: list[int] = []

    def send_worker_writes_meanwhile(changes):  # type: ignore[no-untyped-def]
        matched = real(changes)
        if not calls:
            deps.store.comms.insert_one(late)  # lands after the update, before the read
        calls.append(matched)
        return matched

    deps.store.apply_final = send_worker_writes_meanwhile
    publish(
        deps,
        [
            ReceiptsReceived(
                receipts=[receipt("r5", "cu0", "DELIVERED"), receipt("r5", "cu1", "FAILED", "x")]
            )
        ],
    )
    run(deps, "receipt")
    stored = rows(deps, "r5")
    assert (stored["r5:cu0"]["status"], stored["r5:cu1"]["status"]) == ("delivered", "failed")
    assert pending(deps, RECEIPT, "receipt") == 0
    window = deps.redis.lrange("delivery:outcomes:r5", 0, -1)
    assert sorted(window) == [b"0", b"1"]


def test_a_receipt_a_moment_ahead_of_its_row_is_applied_without_a_redelivery(deps) -> None:
    publish(deps, [chunk("r6", recipients(1))])
    run(deps, "send")
    row = rows(deps, "r6")["r6:cu0"]
    deps.store.comms.delete_one({"_id": "r6:cu0"})
    real = deps.store.receipt_marks

    def row_lands_after_the_first_look(ids):  # type: ignore[no-untyped-def]
        marks = real(ids)
        if deps.store.comms.find_one({"_id": "r6:cu0"}) is None:
            deps.store.comms.insert_one(row)
        return marks

    deps.store.receipt_marks = row_lands_after_the_first_look
    publish(deps, [ReceiptsReceived(receipts=[receipt("r6", "cu0", "DELIVERED")])])
    run(deps, "receipt")
    assert rows(deps, "r6")["r6:cu0"]["status"] == "delivered"
    assert pending(deps, RECEIPT, "receipt") == 0


def test_the_send_and_receipt_workers_read_their_own_number_of_entries(deps) -> None:
    from services.delivery.worker import make_consumers

    deps.settings.receipt_batch_entries = 7
    deps.settings.send_batch_entries = 3
    receipt, send, control = make_consumers(deps, ["receipt", "send", "control"])
    assert receipt.config.batch_size == 7
    assert send.config.batch_size == 3
    assert control.config.batch_size == deps.settings.stream_batch_size not in (3, 7)
