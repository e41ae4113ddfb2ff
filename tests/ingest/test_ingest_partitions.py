"""The ingest API's chunking per partition: a customer's records (and its orders) land
on its partition; with one partition the entries are those of today."""

from __future__ import annotations

import orjson
import pytest
from ingest_helpers import customer, order

from libs.common.events import decode
from libs.common.streams import StreamLayout
from libs.common.streams.names import partition_of
from services.ingest.intake import KINDS, encode_chunks, encode_partitioned, validate_body

pytestmark = pytest.mark.unit
CUSTOMERS, ORDERS = KINDS["customers"], KINDS["orders"]


def _valid(kind: str, items: list[object]) -> list:
    valid, _ = validate_body(KINDS[kind], orjson.dumps({kind: items}), batch=True, max_batch=100)
    return valid


def test_one_partition_appends_exactly_todays_entries_to_ingest() -> None:
    valid = _valid("customers", [customer(f"c{i}") for i in range(5)])
    [(stream, entries)] = encode_partitioned(CUSTOMERS, valid, 2, StreamLayout())
    assert stream == "ingest"
    assert [e["data"] for e in entries] == [e["data"] for e in encode_chunks(CUSTOMERS, valid, 2)]


def test_records_go_to_their_customers_partition_in_chunks() -> None:
    layout = StreamLayout(default=4)
    customers = _valid("customers", [customer(f"c{i}") for i in range(30)])
    orders = _valid("orders", [order(f"o{i}", f"c{i}", 10) for i in range(30)])
    seen = 0
    for kind, valid in ((CUSTOMERS, customers), (ORDERS, orders)):
        for stream, entries in encode_partitioned(kind, valid, 3, layout):
            index = layout.partitions("ingest").index(stream)
            for n, fields in enumerate(entries):
                event = decode(f"1-{n}", dict(fields.items()))
                records = getattr(event, kind.name)
                assert 1 <= len(records) <= 3
                for record in records:
                    owner = record.id if kind is CUSTOMERS else record.customer_id
                    assert partition_of(owner, 4) == index
                    seen += 1
    assert seen == 60
