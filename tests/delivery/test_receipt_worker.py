"""Group ``receipt``: statuses move forward only, duplicates are no-ops."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from libs.common.events import CampaignAutoPaused, Receipt, ReceiptsReceived
from libs.common.streams.names import CAMPAIGN_EVENTS, RECEIPT
from services.delivery.metrics import ROW_WRITES
from tests.delivery.conftest import (
    chunk,
    publish,
    read_stream,
    recipients,
    rows,
    run,
    send_and_record,
)

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


def row_writes() -> Counter[str]:
    """The receipt worker's row writes so far, by write (its Prometheus counter)."""
    return Counter(
        {
            sample.labels["write"]: int(sample.value)
            for metric in ROW_WRITES.collect()
            for sample in metric.samples
            if sample.name.endswith("_total")
        }
    )


def pending(deps, stream: str, group: str) -> int:
    return int(deps.redis.xpending(stream, group)["pending"])


def test_status_never_moves_backwards_and_duplicates_are_no_ops(deps) -> None:
    publish(deps, [chunk("r1", recipients(3))])
    send_and_record(deps)  # the MessagesSent entry: the rows, written ``sent``
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


def test_a_receipt_read_before_its_announcement_writes_the_row_and_the_announcement_completes_it(
    deps,
) -> None:
    publish(deps, [chunk("r2", recipients(1))])
    run(deps, "send")
    [announced] = read_stream(deps, RECEIPT)
    deps.redis.xdel(RECEIPT, announced.entry_id)  # to be read after the receipt
    publish(deps, [ReceiptsReceived(receipts=[receipt("r2", "cu0", "DELIVERED")])])
    before = row_writes()
    run(deps, "receipt")
    assert row_writes() - before == Counter(insert_from_receipt=1)
    early = rows(deps, "r2")["r2:cu0"]
    assert early["status"] == "delivered" and "body" not in early
    assert pending(deps, RECEIPT, "receipt") == 0

    publish(deps, [announced])
    before = row_writes()
    run(deps, "receipt")
    assert row_writes() - before == Counter(complete=1)
    row = rows(deps, "r2")["r2:cu0"]
    assert row["status"] == "delivered"  # never back to sent
    assert (row["channel"], row["to"]) == ("email", "p0@example.com")
    assert row["body"] == "Hi Person0, you spent 100"
    assert deps.redis.lrange("delivery:outcomes:r2", 0, -1) == [b"0"]


def test_a_receipt_for_a_row_still_held_waits_pending_for_the_resume(deps) -> None:
    deps.store.insert_new(
        [{"_id": "r10:cu0", "campaign_id": "r10", "customer_id": "cu0", "status": "held"}]
    )
    publish(deps, [ReceiptsReceived(receipts=[receipt("r10", "cu0", "DELIVERED")])])
    run(deps, "receipt")
    assert rows(deps, "r10")["r10:cu0"]["status"] == "held"
    assert pending(deps, RECEIPT, "receipt") == 1  # left for a retry, not lost
    deps.store.comms.update_one({"_id": "r10:cu0"}, {"$set": {"status": "sent"}})
    run(deps, "receipt")  # the same consumer name drains its own pending entry first
    assert rows(deps, "r10")["r10:cu0"]["status"] == "delivered"
    assert pending(deps, RECEIPT, "receipt") == 0


def test_failure_rate_over_the_window_auto_pauses_and_holds_the_rest(deps, vendor) -> None:
    publish(deps, [chunk("r3", recipients(30))])
    send_and_record(deps)
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
    send_and_record(deps)
    stored = rows(deps, "r3")
    later = [stored[f"r3:cu{i}"] for i in range(500, 505)]
    assert {r["status"] for r in later} == {"held"}


def test_only_receipts_this_call_applied_feed_the_auto_pause_window(deps) -> None:
    publish(deps, [chunk("r4", recipients(6))])
    send_and_record(deps)
    first = [receipt("r4", f"cu{i}", "DELIVERED") for i in range(3)]
    publish(deps, [ReceiptsReceived(receipts=first)])
    run(deps, "receipt")
    # The same receipts again, two new ones and one for a row not written yet, in one entry.
    later = [receipt("r4", f"cu{i}", "FAILED", "late") for i in range(3)]
    later += [receipt("r4", "cu3", "FAILED", "bounced"), receipt("r4", "cu4", "DELIVERED")]
    later += [receipt("r4", "cu99", "DELIVERED")]
    publish(deps, [ReceiptsReceived(receipts=later)])
    run(deps, "receipt")
    publish(deps, [ReceiptsReceived(receipts=later)])  # and once more
    run(deps, "receipt")
    window = deps.redis.lrange("delivery:outcomes:r4", 0, -1)
    # cu0-2, then cu3 (failed), cu4 and cu99 (its row written from the receipt), once each
    assert sorted(window) == [b"0", b"0", b"0", b"0", b"0", b"1"]
    stored = rows(deps, "r4")
    assert [stored[f"r4:cu{i}"]["status"] for i in range(6)] == ["delivered"] * 3 + [
        "failed",
        "delivered",
        "sent",
    ]
    assert stored["r4:cu99"]["status"] == "delivered"
    assert pending(deps, RECEIPT, "receipt") == 0


def test_a_row_written_between_the_update_and_the_read_back_still_gets_its_receipt(
    deps,
) -> None:
    publish(deps, [chunk("r5", recipients(2))])
    send_and_record(deps)
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
    send_and_record(deps)
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


def test_on_four_receipt_partitions_the_receipt_worker_reads_four_times_the_entries(deps):
    from services.delivery.worker import make_consumers

    deps.settings.receipt_batch_entries = 7
    deps.settings.receipt_backlog_max = 5
    deps.settings.stream_partitions = "1,receipt=4"
    [receipt] = make_consumers(deps, ["receipt"])
    assert len(receipt.config.streams) == 4
    assert receipt.config.batch_size == 28, "each entry holds a quarter of a chunk's messages"
    assert deps.settings.receipt_entries(deps.settings.receipt_backlog_max) == 20


def test_a_message_sent_and_received_within_one_read_is_written_once_final(deps) -> None:
    publish(deps, [chunk("r7", recipients(4))])
    run(deps, "send")  # MessagesSent in the stream, no rows yet
    publish(
        deps,
        [
            ReceiptsReceived(
                receipts=[
                    receipt("r7", "cu0", "DELIVERED"),
                    receipt("r7", "cu1", "FAILED", "mailbox full"),
                    receipt("r7", "cu2", "DELIVERED"),
                ]
            )
        ],
    )
    updates: list[object] = []
    real = deps.store.apply_final
    deps.store.apply_final = lambda changes: updates.append(changes) or real(changes)
    before = row_writes()
    assert run(deps, "receipt") == 2  # one read: the MessagesSent entry and the receipts
    assert row_writes() - before == Counter(insert_final=3, insert_sent=1)
    stored = rows(deps, "r7")
    assert [stored[f"r7:cu{i}"]["status"] for i in range(4)] == [
        "delivered",
        "failed",
        "delivered",
        "sent",
    ]
    assert stored["r7:cu1"]["reason"] == "mailbox full"
    assert stored["r7:cu0"]["body"] == "Hi Person0, you spent 100"
    assert stored["r7:cu0"]["vendor_message_id"].startswith("vm_")
    assert updates == []  # three rows inserted final, one inserted sent: no update at all
    window = deps.redis.lrange("delivery:outcomes:r7", 0, -1)
    assert sorted(window) == [b"0", b"0", b"1"]


def test_an_announcement_again_after_the_receipt_changes_nothing(deps) -> None:
    publish(deps, [chunk("r8", recipients(2))])
    run(deps, "send")
    [announced] = read_stream(deps, RECEIPT)
    publish(deps, [ReceiptsReceived(receipts=[receipt("r8", "cu0", "DELIVERED")])])
    run(deps, "receipt")
    # a redelivered send entry announces the same messages, with their content, and its
    # receipt comes again in the same read: written once, counted once
    publish(
        deps,
        [announced, ReceiptsReceived(receipts=[receipt("r8", "cu0", "FAILED", "late")])],
    )
    run(deps, "receipt")
    stored = rows(deps, "r8")
    assert (stored["r8:cu0"]["status"], stored["r8:cu1"]["status"]) == ("delivered", "sent")
    assert deps.redis.lrange("delivery:outcomes:r8", 0, -1) == [b"0"]


def test_a_receipt_read_with_a_repeated_announcement_moves_the_row_written_before(deps) -> None:
    publish(deps, [chunk("r9", recipients(2))])
    run(deps, "send")
    [announced] = read_stream(deps, RECEIPT)
    run(deps, "receipt")  # the rows, sent
    publish(deps, [announced, ReceiptsReceived(receipts=[receipt("r9", "cu1", "DELIVERED")])])
    run(deps, "receipt")  # the final row's insert finds the row: updated instead
    stored = rows(deps, "r9")
    assert (stored["r9:cu0"]["status"], stored["r9:cu1"]["status"]) == ("sent", "delivered")
    assert deps.redis.lrange("delivery:outcomes:r9", 0, -1) == [b"0"]
    assert pending(deps, RECEIPT, "receipt") == 0


def test_rows_are_inserted_in_chunks_and_the_existing_ones_of_every_chunk_reported(
    deps, monkeypatch
) -> None:
    from services.delivery import store

    monkeypatch.setattr(store, "INSERT_CHUNK", 2)
    row = {"campaign_id": "r11", "customer_id": "x", "status": "sent"}
    deps.store.insert_new([{**row, "_id": "r11:b"}, {**row, "_id": "r11:e"}])
    docs = [{**row, "_id": f"r11:{c}"} for c in "abcdef"]
    assert sorted(deps.store.insert_new(docs)) == ["r11:b", "r11:e"]
    assert len(rows(deps, "r11")) == 6
