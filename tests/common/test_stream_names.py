"""Partition names and keys: what every producer and consumer must agree on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.common.events import (
    CampaignPaused,
    CustomerRecord,
    CustomersUpserted,
    MessagesSent,
    OrderRecord,
    OrdersRecorded,
    ReceiptsReceived,
    SendRequested,
)
from libs.common.events.delivery import Receipt, Recipient, SentMessage
from libs.common.settings import CommonSettings
from libs.common.streams import SINGLE, StreamLayout, StreamProducer
from libs.common.streams.names import parse_partitions, partition_of
from libs.common.streams.producer import routed

pytestmark = pytest.mark.unit
T0 = datetime(2026, 1, 5, tzinfo=UTC)


def test_default_layout_keeps_todays_names_on_one_redis() -> None:
    settings = CommonSettings()  # type: ignore[call-arg]
    layout = settings.stream_layout()
    assert layout == SINGLE
    assert layout.partitions("send") == ["send"]
    assert layout.partition("ingest", "c1") == "ingest"


def test_partition_counts_per_stream_and_hash_tagged_names() -> None:
    assert parse_partitions("4") == (4, {})
    assert parse_partitions("send=8, receipt=4") == (1, {"send": 8, "receipt": 4})
    assert parse_partitions("4,ingest=2") == (4, {"ingest": 2})
    layout = StreamLayout.from_spec("4,ingest=2")
    assert layout.partitions("ingest") == ["{ingest:0}", "{ingest:1}"]
    assert layout.partitions("send")[3] == "{send:3}"
    # on a cluster even one partition is tagged: its DLQ MULTI must stay on one slot
    assert StreamLayout.from_spec("1", cluster=True).partitions("send") == ["{send:0}"]
    cluster_url = {"REDIS_URL": "redis+cluster://10.0.0.1:6379,10.0.0.2:6379"}
    assert CommonSettings(**cluster_url).stream_layout().tagged  # type: ignore[call-arg, arg-type]


@pytest.mark.parametrize("spec", ["0", "x", "send=", "send=300"])
def test_a_bad_partition_setting_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="STREAM_PARTITIONS"):
        CommonSettings(STREAM_PARTITIONS=spec)  # type: ignore[call-arg]


def test_partition_of_a_key_is_stable_and_spread() -> None:
    assert partition_of("c000042", 4) == partition_of("c000042", 4) == 3
    assert {partition_of(f"c{i}", 4) for i in range(100)} == {0, 1, 2, 3}


def test_a_chunk_is_split_so_each_customer_and_its_orders_share_a_partition() -> None:
    layout = StreamLayout(default=4)
    ids = [f"c{i}" for i in range(40)]
    customers = CustomersUpserted(customers=[CustomerRecord(id=c, name=c) for c in ids])
    orders = OrdersRecorded(
        orders=[OrderRecord(id=f"o{c}", customer_id=c, amount=1, date=T0) for c in ids]
    )
    where: dict[str, str] = {}
    for name, event in routed([customers, orders], None, layout):
        for record in getattr(event, "customers", []):
            where[record.id] = name
        for record in getattr(event, "orders", []):
            assert where[record.customer_id] == name, "an order goes with its customer"
    assert sorted(where) == sorted(ids), "no record lost or doubled"
    assert len(set(where.values())) == 4


def test_send_chunks_campaign_events_and_receipts_route_by_their_keys() -> None:
    layout = StreamLayout(default=4)
    chunks = [
        SendRequested(
            campaign_id="k", message="m", chunk=n, recipients=[Recipient(customer_id="a")]
        )
        for n in range(8)
    ]
    assert len({name for name, _ in routed(chunks, None, layout)}) > 1, "chunks spread"
    controls = [CampaignPaused(campaign_id="k"), CampaignPaused(campaign_id="k")]
    assert len({name for name, _ in routed(controls, None, layout)}) == 1, "in order"
    receipts = ReceiptsReceived(
        receipts=[
            Receipt(
                message_id=f"k:u{i}",
                campaign_id="k",
                customer_id=f"u{i}",
                vendor_message_id=str(i),
                status="DELIVERED",
                at=T0,
            )
            for i in range(20)
        ]
    )
    parts = routed([receipts], None, layout)
    assert sum(len(e.receipts) for _, e in parts) == 20  # type: ignore[attr-defined]
    for name, event in parts:
        for r in event.receipts:  # type: ignore[attr-defined]
            assert name == layout.partition("receipt", r.message_id)


@pytest.mark.integration
def test_events_published_under_one_key_go_whole_to_that_keys_partition(
    redis_client,
) -> None:
    layout = StreamLayout(default=4)
    sent = [
        MessagesSent(
            messages=[
                SentMessage(
                    message_id=f"k:u{i}",
                    campaign_id="k",
                    customer_id=f"u{i}",
                    vendor_message_id=str(i),
                    at=T0,
                )
                for i in range(start, start + 10)
            ]
        )
        for start in (0, 10)
    ]
    parts = routed(sent, None, layout, key="k:u0")
    assert [name for name, _ in parts] == [layout.partition("receipt", "k:u0")] * 2
    assert [event for _, event in parts] == sent, "not split"
    producer = StreamProducer(redis_client, layout=layout)
    with pytest.raises(ValueError, match="share a stream"):
        producer.publish([*sent, CampaignPaused(campaign_id="k")], key="k:u0")
    assert producer.publish(sent, key="k:u0")
    assert redis_client.xlen(layout.partition("receipt", "k:u0")) == 2
