"""Group ``send`` against real Redis, the real DB and a real vendor simulator process."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from libs.common.events import CampaignPaused, MessagesFailed, MessagesSent, Recipient
from libs.common.streams.names import RECEIPT, SEND
from tests.delivery.conftest import (
    chunk,
    publish,
    read_stream,
    recipients,
    rows,
    run,
    send_and_record,
    vendor_control,
    vendor_stats,
)

pytestmark = pytest.mark.integration


def test_each_customer_gets_the_template_rendered_for_them(deps, vendor) -> None:
    people = recipients(3)
    people.append(Recipient(customer_id="sms-only", name="Zed", phone="+15550000001"))
    publish(deps, [chunk("c1", people, message="Hi {firstName}, you spent {totalSpends}!")])
    assert send_and_record(deps) == 1

    stored = rows(deps, "c1")
    assert stored["c1:cu0"]["body"] == "Hi Person0, you spent 100!"
    assert stored["c1:cu2"]["body"] == "Hi Person2, you spent 102!"
    assert stored["c1:cu1"]["channel"] == "email" and stored["c1:cu1"]["to"] == "p1@example.com"
    assert stored["c1:sms-only"]["channel"] == "sms"
    assert stored["c1:sms-only"]["body"] == "Hi Zed, you spent !"
    assert {r["status"] for r in stored.values()} == {"sent"}
    assert all(r["vendor_message_id"].startswith("vm_") for r in stored.values())
    assert vendor_stats(vendor)["accepted"] == 4
    [sent] = read_stream(deps, RECEIPT)
    assert isinstance(sent, MessagesSent)
    assert {m.message_id for m in sent.messages} == set(stored)


def test_requested_channel_without_contact_data_fails_with_a_reason(deps, vendor) -> None:
    people = [Recipient(customer_id="no-phone", name="Ann", email="a@example.com")]
    publish(deps, [chunk("c2", people, channel="sms")])
    send_and_record(deps)
    row = rows(deps, "c2")["c2:no-phone"]
    assert row["status"] == "failed" and row["reason"] == "no phone number"
    [failed] = read_stream(deps, RECEIPT)
    assert isinstance(failed, MessagesFailed)
    assert vendor_stats(vendor)["accepted"] == 0


def test_redelivered_send_entry_sends_nothing_twice(deps, vendor) -> None:
    people = recipients(250)
    publish(deps, [chunk("c3", people, number=7)])
    real_publish = deps.publish_outcomes

    def crash(_sent, _failed):
        raise RuntimeError("worker died after the vendor accepted, before the announcement")

    deps.publish_outcomes = crash  # the crash window: vendor accepted, nothing recorded
    send_and_record(deps)
    assert rows(deps, "c3") == {}
    assert read_stream(deps, RECEIPT) == []
    assert vendor_stats(vendor)["accepted"] == 250

    deps.publish_outcomes = real_publish
    send_and_record(deps)  # same consumer name: drains its own pending entry first
    stats = vendor_stats(vendor)
    assert stats["accepted"] == 250
    assert stats["duplicatesRefused"] == 250
    assert stats["duplicateClientRefs"] == 0
    assert {r["status"] for r in rows(deps, "c3").values()} == {"sent"}
    assert len(rows(deps, "c3")) == 250

    publish(deps, [chunk("c3", people, number=7)])  # the same chunk once more
    send_and_record(deps)
    assert vendor_stats(vendor)["accepted"] == 250


def test_redelivery_after_receipts_wrote_some_rows_sends_nothing_twice(deps, vendor) -> None:
    """The worker dies after the vendor took every batch; receipts then write the first
    batch's rows before the chunk comes back. The batches must keep their keys: formed
    from the messages still without a row, the second batch would move up to index 0
    under a new key and be sent again (seen as 3,100 accepted of 3,000 after a kill -9)."""
    people = recipients(250)
    publish(deps, [chunk("c5", people, number=3)])
    real_publish = deps.publish_outcomes

    def crash(_sent, _failed):
        raise RuntimeError("worker died after the vendor accepted, before the announcement")

    deps.publish_outcomes = crash
    send_and_record(deps)
    assert vendor_stats(vendor)["accepted"] == 250

    now = datetime.now(UTC)
    deps.store.insert_new(
        [
            {
                "_id": f"c5:{r.customer_id}",
                "campaign_id": "c5",
                "customer_id": r.customer_id,
                "status": "delivered",
                "created_at": now,
                "updated_at": now,
            }
            for r in people[:100]
        ]
    )
    deps.publish_outcomes = real_publish
    send_and_record(deps)
    stats = vendor_stats(vendor)
    assert stats["accepted"] == 250
    assert stats["duplicateClientRefs"] == 0
    assert len(rows(deps, "c5")) == 250


def test_rows_written_but_not_announced_are_announced_on_redelivery(deps, vendor) -> None:
    # undeliverable messages: their failed rows are written by the send worker itself
    people = [Recipient(customer_id=f"np{i}", name="Ann", email="a@example.com") for i in range(5)]
    publish(deps, [chunk("c4", people, channel="sms")])
    real_publish = deps.publish_outcomes

    def crash(_sent, _failed):
        raise RuntimeError("died between the write and the announcement")

    deps.publish_outcomes = crash
    send_and_record(deps)
    assert {r["status"] for r in rows(deps, "c4").values()} == {"failed"}
    assert len(rows(deps, "c4")) == 5
    assert read_stream(deps, RECEIPT) == []

    deps.publish_outcomes = real_publish
    send_and_record(deps)
    [failed] = read_stream(deps, RECEIPT)
    assert isinstance(failed, MessagesFailed) and len(failed.messages) == 5
    assert vendor_stats(vendor)["accepted"] == 0


def test_a_sent_message_is_announced_with_its_content_and_written_by_the_receipt_worker(
    deps, vendor
) -> None:
    publish(deps, [chunk("c12", recipients(3), message="Hi {firstName}")])
    assert run(deps, "send") == 1
    assert rows(deps, "c12") == {}  # the send worker wrote nothing
    [sent] = read_stream(deps, RECEIPT)
    assert [(m.channel, m.to, m.body) for m in sent.messages][0] == (
        "email",
        "p0@example.com",
        "Hi Person0",
    )
    run(deps, "receipt")
    stored = rows(deps, "c12")
    assert {r["status"] for r in stored.values()} == {"sent"}
    assert stored["c12:cu1"]["body"] == "Hi Person1" and stored["c12:cu1"]["to"] == "p1@example.com"
    assert stored["c12:cu1"]["vendor_message_id"] == sent.messages[1].vendor_message_id


@pytest.mark.parametrize("fault", [{"errorRate": 1.0}, {"down": True}], ids=["429-500", "down"])
def test_vendor_faults_are_retried_until_it_accepts(deps, vendor, fault) -> None:
    vendor_control(vendor, **fault)
    deps.vendor.policy.max_retries = 30
    healed = {key: (0.0 if key == "errorRate" else False) for key in fault}
    timer = threading.Timer(0.8, lambda: vendor_control(vendor, **healed))
    timer.start()
    publish(deps, [chunk("c5", recipients(120))])
    started = time.monotonic()
    send_and_record(deps)
    timer.join()
    stats = vendor_stats(vendor)
    assert stats["refused429"] + stats["refused5xx"] + stats["refusedDown"] >= 2
    assert stats["accepted"] == 120
    assert {r["status"] for r in rows(deps, "c5").values()} == {"sent"}
    assert time.monotonic() - started >= 0.7


def test_vendor_out_of_reach_leaves_the_chunk_pending_and_sends_it_later(deps, vendor) -> None:
    deps.settings.send_concurrency = 1  # chunks one after the other: the breaker is seen
    vendor_control(vendor, down=True)
    publish(
        deps, [chunk("c9", recipients(10), number=0), chunk("c9", recipients(10, 10), number=1)]
    )
    started = time.monotonic()
    send_and_record(deps)
    assert rows(deps, "c9") == {}
    assert int(deps.redis.xpending(SEND, "send")["pending"]) == 2
    assert vendor_stats(vendor)["refusedDown"] == 4  # the second chunk met the open breaker
    assert time.monotonic() - started < 3

    vendor_control(vendor, down=False)
    deps.vendor.breaker_s = 0
    deps.vendor._open_until = 0.0
    send_and_record(deps)  # the same consumer drains its pending entries: deliveries == 2
    assert {r["status"] for r in rows(deps, "c9").values()} == {"sent"}
    assert len(rows(deps, "c9")) == 20


def test_retry_budget_exhausted_on_the_last_delivery_marks_the_batch_failed(deps, vendor) -> None:
    vendor_control(vendor, down=True)
    deps.settings.stream_max_deliveries = 1  # the first delivery is the last one allowed
    publish(deps, [chunk("c6", recipients(10))])
    send_and_record(deps)
    stored = rows(deps, "c6")
    assert {r["status"] for r in stored.values()} == {"failed"}
    # the vendor's own error text goes to the log; the message keeps a short reason
    assert {r["reason"] for r in stored.values()} == {"vendor_unavailable"}
    [failed] = read_stream(deps, RECEIPT)
    assert isinstance(failed, MessagesFailed) and len(failed.messages) == 10
    assert vendor_stats(vendor)["refusedDown"] == 4


def test_send_rate_limit_spreads_batches_over_seconds(deps, vendor) -> None:
    deps.limiter.campaign_per_s = 100
    publish(deps, [chunk("c7", recipients(100, 100 * n), number=n) for n in range(3)])
    started = time.monotonic()
    send_and_record(deps)
    assert len(rows(deps, "c7")) == 300
    assert time.monotonic() - started > 0.95  # three one-second windows were needed


def test_chunk_redelivered_after_a_pause_is_finished_not_held_for_a_second_send(
    deps, vendor
) -> None:
    publish(deps, [chunk("c8", recipients(120))])
    real_insert = deps.store.insert_new

    def crash(_docs):
        raise RuntimeError("died after the vendor accepted")

    deps.store.insert_new = crash
    send_and_record(deps)
    deps.store.insert_new = real_insert
    publish(deps, [CampaignPaused(campaign_id="c8")])
    run(deps, "control")

    send_and_record(deps)
    assert {r["status"] for r in rows(deps, "c8").values()} == {"sent"}
    stats = vendor_stats(vendor)
    assert stats["accepted"] == 120 and stats["duplicatesRefused"] == 120


def test_chunks_of_a_batch_are_sent_concurrently_each_once(deps, vendor) -> None:
    deps.settings.send_concurrency = 4
    in_flight, most = 0, 0
    lock = threading.Lock()
    real_send = deps.vendor.send

    def counting_send(*args, **kwargs):
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        try:
            time.sleep(0.05)  # a vendor round trip long enough for the others to start
            return real_send(*args, **kwargs)
        finally:
            with lock:
                in_flight -= 1

    deps.vendor.send = counting_send
    publish(deps, [chunk("c10", recipients(25, 25 * n), number=n) for n in range(8)])
    run(deps, "send")
    assert most > 1, "chunks were sent one after the other"
    sent = [m for e in read_stream(deps, RECEIPT) for m in e.messages]
    assert len(sent) == 200 and len({m.message_id for m in sent}) == 200
    run(deps, "receipt")  # acknowledged by every group: trimmed from the stream
    stored = rows(deps, "c10")
    assert len(stored) == 200 and {r["status"] for r in stored.values()} == {"sent"}
    assert vendor_stats(vendor)["accepted"] == 200


def test_an_auto_pause_by_another_chunk_holds_this_chunks_later_batches(deps, vendor) -> None:
    deps.settings.send_concurrency = 1
    deps.settings.vendor_batch_size = 5
    real_send = deps.vendor.send
    calls = 0

    def pause_during_first_batch(key: str, messages: Any, *, probe: bool = False) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:  # while the first batch goes out, another chunk trips the pause
            deps.autopause.record("c11", [True] * 20)
            states.pause("c11")
        return real_send(key, messages, probe=probe)

    from services.delivery.sender import CampaignStates, send_chunk

    states = CampaignStates({})
    deps.vendor.send = pause_during_first_batch
    send_chunk(chunk("c11", recipients(15)), states, {}, deps)
    run(deps, "receipt")
    stored = rows(deps, "c11")
    statuses = sorted(r["status"] for r in stored.values())
    assert statuses == ["held"] * 10 + ["sent"] * 5
    assert vendor_stats(vendor)["accepted"] == 5


def test_rows_already_written_are_found_for_every_chunk_of_a_batch(deps, vendor) -> None:
    publish(deps, [chunk("c5", recipients(10))])
    send_and_record(deps)
    assert vendor_stats(vendor)["accepted"] == 10
    # one read batch: a chunk half written already (recipients out of order), a campaign
    # whose id starts like the first one's, and a fresh chunk of the first campaign
    publish(
        deps,
        [
            chunk("c5", list(reversed(recipients(20))), number=1),
            chunk("c50", recipients(10), number=0),
            chunk("c5", recipients(5, 30), number=2),
        ],
    )
    send_and_record(deps)
    stats = vendor_stats(vendor)
    assert stats["accepted"] == 10 + 10 + 10 + 5
    assert stats["duplicateClientRefs"] == 0
    assert len(rows(deps, "c5")) == 25 and len(rows(deps, "c50")) == 10


def test_an_over_long_rendered_body_fails_alone_and_its_batch_is_sent(deps, vendor) -> None:
    people = recipients(6)
    people[2] = people[2].model_copy(update={"name": "N" * 400})  # 333 x 400: 133,200
    sms = [r.model_copy(update={"email": None}) for r in recipients(2, 50)]
    sms[0] = sms[0].model_copy(update={"name": "S" * 5})  # 333 x 5: 1,665
    sms[1] = sms[1].model_copy(update={"name": "Al"})  # 333 x 2: 666
    message = "{name}" * 333  # 1,998 characters of template
    publish(deps, [chunk("c12", [*people, *sms], message=message)])
    send_and_record(deps)
    stored = rows(deps, "c12")
    failed = {mid: r["reason"] for mid, r in stored.items() if r["status"] == "failed"}
    assert failed == {"c12:cu2": "body_too_long", "c12:cu50": "body_too_long"}
    sent = {mid for mid, r in stored.items() if r["status"] == "sent"}
    assert sent == {f"c12:cu{i}" for i in (0, 1, 3, 4, 5, 51)}
    assert vendor_stats(vendor)["accepted"] == 6
