"""The raw limits of the infrastructure, measured with the plain clients.

Each figure is the ceiling the matching end-to-end figure is compared with, measured in
the same run on the same servers with the same payloads/documents.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pymongo
import redis
from pymongo import InsertOne, UpdateOne

from bench import data
from bench.report import Figure
from libs.common.mongo import count_matching

CHUNK = 500  # records per stream entry, as the ingest API chunks (INGEST_CHUNK_SIZE)
ENTRIES_PER_PIPELINE = 2  # one 1,000-record request = two entries in one round trip


def redis_raw_xadd(redis_url: str, records: int) -> Figure:
    """Pipelined XADD of pre-built ``customers.upserted.v1`` entries of 500 records.

    The payloads are serialised before the clock starts (as in the API, serialising is
    the request's own work, measured there): this is the Redis + client ceiling.
    """
    r = redis.Redis.from_url(redis_url)
    stream = "bench.raw.xadd"
    r.delete(stream)
    entries = [
        data.stream_entry([data.stream_record(i, "x") for i in range(s, min(s + CHUNK, records))])
        for s in range(0, records, CHUNK)
    ]
    started = time.perf_counter()
    for start in range(0, len(entries), ENTRIES_PER_PIPELINE):
        pipe = r.pipeline(transaction=False)
        for fields in entries[start : start + ENTRIES_PER_PIPELINE]:
            pipe.xadd(stream, fields)  # type: ignore[arg-type]
        pipe.execute()
    elapsed = time.perf_counter() - started
    length = int(r.xlen(stream))
    r.delete(stream)
    r.close()
    assert length == len(entries), f"XLEN {length} != {len(entries)} entries"
    return Figure(
        "redis_raw_xadd_per_s",
        records / elapsed,
        "records/s",
        f"redis-py pipelined XADD, {records:,} records in {CHUNK}-record orjson entries, "
        f"{ENTRIES_PER_PIPELINE} entries per pipeline, {elapsed:.2f} s",
    )


def db_raw_upsert(mongo_uri: str, db_name: str, records: int, batch: int = 1000) -> Figure:
    """Bulk UpdateOne(upsert) of the same customer documents the ingest worker writes."""
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(mongo_uri)
    coll = client[db_name]["customers"]
    coll.drop()
    ops_batches = []
    for start in range(0, records, batch):
        ops = []
        for i in range(start, min(start + batch, records)):
            ops.append(
                UpdateOne(
                    {"_id": f"u{i:08d}"},
                    {"$set": data.upsert_fields(i, "u")},
                    upsert=True,
                )
            )
        ops_batches.append(ops)
    started = time.perf_counter()
    for ops in ops_batches:
        coll.bulk_write(ops, ordered=False)
    elapsed = time.perf_counter() - started
    count = count_matching(coll, {})
    client.drop_database(db_name)
    client.close()
    assert count == records, f"{count} documents after upserting {records}"
    return Figure(
        "db_raw_upsert_per_s",
        records / elapsed,
        "records/s",
        f"pymongo bulk_write(UpdateOne $set upsert, ordered=False), {batch}/batch, "
        f"{records:,} new customers, {elapsed:.2f} s",
    )


def comm_row(campaign: str, i: int, now: datetime) -> dict[str, object]:
    """A communications row as delivery records it when the vendor accepted a message."""
    customer = f"m{i:08d}"
    return {
        "_id": f"{campaign}:{customer}",
        "campaign_id": campaign,
        "customer_id": customer,
        "to": f"{customer}@example.com",
        "channel": "email",
        "body": f"Hi Customer {i}, 10% off for you this week.",
        "status": "sent",
        "vendor_message_id": f"v-{i:010d}",
        "created_at": now,
        "updated_at": now,
    }


def comm_rows_table(client: pymongo.MongoClient[dict[str, object]], db_name: str) -> Any:
    """An empty communications collection with the delivery service's indexes."""
    db = client[db_name]
    db.drop_collection("communications")
    coll = db["communications"]
    coll.create_index([("campaign_id", 1), ("status", 1)])
    coll.create_index([("customer_id", 1)])
    coll.create_index([("status", 1)])
    return coll


def write_comm_rows(coll: Any, rows: list[dict[str, object]], batch: int, now: datetime) -> None:
    """Insert every row, then apply each one's receipt (update by _id), in bulk."""
    for start in range(0, len(rows), batch):
        coll.bulk_write([InsertOne(row) for row in rows[start : start + batch]], ordered=False)
    for start in range(0, len(rows), batch):
        coll.bulk_write(
            [
                UpdateOne(
                    {"_id": row["_id"], "status": "sent"},
                    {"$set": {"status": "delivered", "updated_at": now}},
                )
                for row in rows[start : start + batch]
            ],
            ordered=False,
        )


def db_raw_comm_rows(mongo_uri: str, db_name: str, messages: int, batch: int = 1000) -> Figure:
    """Per message: insert its communication row, then apply its receipt (update by _id).

    The two writes every message needs at minimum; both in bulk, batch by batch, with
    the delivery service's indexes in place.
    """
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(mongo_uri)
    coll = comm_rows_table(client, db_name)
    now = datetime.now(UTC)
    rows = [comm_row("bench", i, now) for i in range(messages)]
    started = time.perf_counter()
    write_comm_rows(coll, rows, batch, now)
    elapsed = time.perf_counter() - started
    delivered = count_matching(coll, {"status": "delivered"})
    client.drop_database(db_name)
    client.close()
    assert delivered == messages, f"{delivered} delivered rows of {messages}"
    return Figure(
        "db_raw_comm_rows_per_s",
        messages / elapsed,
        "messages/s",
        f"pymongo: insert one communication row + update its status by _id per message, "
        f"bulk {batch}/batch, delivery's 3 indexes, {messages:,} messages, {elapsed:.2f} s, "
        "on the database server delivery writes to",
    )
