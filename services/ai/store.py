"""The AI service's read models (its own database): the only module touching pymongo.

Collections, all keyed so that applying the same stream entry twice changes nothing:
- ``customer_log``: one document per ingest entry of customers (``records``, rule-engine
  field names plus ``base_spends``), folded on read (services.ai.eventlog); compacted
  into snapshot documents when it holds mostly superseded records;
- ``orders``: _id order id (amount, date, customer_id), and ``order_totals``: per
  customer, the aggregates recomputed from those orders (a redelivered order is never
  counted twice); ``customers()`` joins them to the folded records;
- ``message_log``: one document per receipt-stream entry and campaign (sent, final or
  cancelled messages as parallel lists), folded on read;
- ``campaigns``: _id campaign id, content and life cycle; ``segments``: saved rules.

Documents never hold None or empty lists (absent means unknown). The embedded test
server (nx-27017) turns a datetime ``$set`` on an existing document into a string, so
every read goes through ``revive``, which turns those strings back into UTC datetimes
(a no-op on real MongoDB).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING, UpdateOne
from pymongo.database import Database

from libs.common.events import CustomerRecord, OrderRecord
from libs.common.mongo import IndexSpec, ensure_indexes, insert_new
from services.ai import eventlog
from services.ai.eventlog import CANCELLED, FINAL, SENT

INDEXES = (
    IndexSpec("orders", [("customer_id", 1)]),
    IndexSpec("message_log", [("campaign_id", 1)]),
)
CHUNK = 500
SNAPSHOT_SIZE = 1000
COMPACT_MIN_RECORDS = 10_000

Entries = Sequence[tuple[str | None, Sequence[Any]]]  # (stream entry id, its items)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


DATE_KEYS = frozenset(
    {
        "last_visit", "last_order_at", "created_at", "date", "sent_at", "final_at",
        "scheduled_at", "resolved_at", "started_at", "completed_at",
    }
)  # fmt: skip


def _as_datetime(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def revive(doc: dict[str, Any]) -> dict[str, Any]:
    for key in DATE_KEYS.intersection(doc):
        doc[key] = _as_datetime(doc[key])
    return doc


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != [] and v != ""}


def _customer_record(record: CustomerRecord) -> dict[str, Any]:
    fields = _present(
        {
            "_id": record.id,
            "name": record.name,
            "email": record.email,
            "phone": record.phone,
            "city": record.city,
            "timezone": record.timezone,
            "last_visit": record.last_visit,
            "created_at": record.created_at,
            "tags": list(record.tags),
        }
    )
    fields.update({"base_spends": float(record.total_spends), "visits": record.visits})
    return fields


def _customer(record: dict[str, Any] | None, totals: dict[str, Any] | None) -> dict[str, Any]:
    """A customer's features: its own record's fields, its order aggregates, and
    ``total_spends`` = own spend + order total."""
    doc = revive(dict(record or {}))
    if totals:
        doc.update(revive(totals))
    own, orders = float(doc.get("base_spends", 0)), float(doc.get("order_total", 0))
    doc["total_spends"] = round(own + orders, 2)
    return doc


class AiStore:
    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.db = db

    def ensure_indexes(self) -> None:
        ensure_indexes(self.db, INDEXES)

    # -- customers and orders ------------------------------------------------------
    def append_customers(self, entries: Entries) -> None:
        """The entries' records as log documents (eventlog.customer_log_docs): consecutive
        entries share one of up to CHUNK records; the last record of an id in an entry
        wins."""
        keyed = [
            (
                eventlog.log_key(entry_id),
                list({r.id: _customer_record(r) for r in records}.values()),
            )
            for entry_id, records in entries
        ]
        insert_new(self.db.customer_log, eventlog.customer_log_docs(keyed, CHUNK))

    def _compact_customers(
        self, docs: list[dict[str, Any]], latest: dict[str, tuple[str, dict[str, Any]]]
    ) -> None:
        """Replace the log documents read (``docs``) with snapshot documents of their
        fold (``latest``) when over half their records are superseded.

        Only the documents read are deleted, after the snapshot is in place: an entry
        appended meanwhile stays, and a crash in between leaves both, which fold alike.
        """
        total = sum(len(d.get("records", [])) for d in docs)
        if not docs or total < max(COMPACT_MIN_RECORDS, 2 * len(latest)):
            return
        newest = max(str(d["_id"]) for d in docs)
        snapshot = eventlog.snapshot_docs(latest, newest, SNAPSHOT_SIZE)
        insert_new(self.db.customer_log, snapshot)
        fresh = {d["_id"] for d in snapshot}
        folded = [d["_id"] for d in docs if d["_id"] not in fresh]
        for chunk in _chunks(folded):
            self.db.customer_log.delete_many({"_id": {"$in": list(chunk)}})

    def record_orders(self, orders: Sequence[OrderRecord]) -> None:
        ops = [
            UpdateOne(
                {"_id": o.id},
                {"$set": {"customer_id": o.customer_id, "amount": float(o.amount), "date": o.date}},
                upsert=True,
            )
            for o in {o.id: o for o in orders}.values()
        ]
        for chunk in _chunks(ops):
            self.db.orders.bulk_write(list(chunk), ordered=False)
        self.refresh_aggregates(sorted({o.customer_id for o in orders}))

    def refresh_aggregates(self, customer_ids: Sequence[str]) -> None:
        """Recompute order aggregates from the orders themselves: idempotent by design."""
        for chunk in _chunks(list(customer_ids)):
            ids = list(chunk)
            totals: dict[str, dict[str, Any]] = {
                cid: {"order_count": 0, "order_total": 0.0} for cid in ids
            }
            for order in map(
                revive,
                self.db.orders.find(
                    {"customer_id": {"$in": ids}}, {"customer_id": 1, "amount": 1, "date": 1}
                ),
            ):
                agg = totals[order["customer_id"]]
                agg["order_count"] += 1
                agg["order_total"] += float(order.get("amount", 0))
                date = order.get("date")
                if date is not None and ("last_order_at" not in agg or date > agg["last_order_at"]):
                    agg["last_order_at"] = date
            ops = [
                UpdateOne({"_id": cid}, {"$set": agg}, upsert=True) for cid, agg in totals.items()
            ]
            if ops:
                self.db.order_totals.bulk_write(ops, ordered=False)

    def customers(self) -> list[dict[str, Any]]:
        """Every customer (with a record or an order), features joined. Compacts the
        log when it is mostly superseded records."""
        docs = list(self.db.customer_log.find({}))
        latest = eventlog.fold_customers(docs)
        self._compact_customers(docs, latest)  # the read is paid for already
        totals = {d.pop("_id"): d for d in self.db.order_totals.find({})}
        records = {cid: record for cid, (_, record) in latest.items()}
        return [
            {**_customer(records.get(cid), totals.get(cid)), "_id": cid}
            for cid in sorted(records.keys() | totals.keys())
        ]

    def order_times(self, customer_ids: set[str] | None = None) -> list[tuple[str, datetime]]:
        rows = map(revive, self.db.orders.find({}, {"customer_id": 1, "date": 1}))
        return [
            (r["customer_id"], r["date"])
            for r in rows
            if r.get("date") is not None
            and (customer_ids is None or r["customer_id"] in customer_ids)
        ]

    # -- messages --------------------------------------------------------------------
    def append_sent(self, entries: Entries) -> None:
        self._append_messages(
            SENT,
            [
                (entry_id, m.campaign_id, (m.customer_id, m.at, "", ""))
                for entry_id, messages in entries
                for m in messages
            ],
        )

    def append_receipts(self, entries: Entries) -> None:
        self._append_messages(
            FINAL,
            [
                (entry_id, r.campaign_id, (r.customer_id, r.at, r.status, r.reason or ""))
                for entry_id, receipts in entries
                for r in receipts
            ],
        )

    def append_failed(self, entries: Entries) -> None:
        self._append_messages(
            FINAL,
            [
                (entry_id, m.campaign_id, (m.customer_id, m.at, "FAILED", m.reason or "unknown"))
                for entry_id, messages in entries
                for m in messages
            ],
        )

    def append_cancelled(
        self, entries: Sequence[tuple[str | None, str, Sequence[str], datetime]]
    ) -> None:
        self._append_messages(
            CANCELLED,
            [
                (entry_id, campaign_id, (cid, at, "", ""))
                for entry_id, campaign_id, customer_ids, at in entries
                for cid in customer_ids
            ],
        )

    def _append_messages(
        self, kind: str, rows: Sequence[tuple[str | None, str, tuple[str, datetime, str, str]]]
    ) -> None:
        """One document per (entry, campaign)."""
        groups: dict[tuple[str, str], list[tuple[str, datetime, str, str]]] = {}
        keys: dict[str | None, str] = {}
        for entry_id, campaign_id, row in rows:
            key = keys.setdefault(entry_id, eventlog.log_key(entry_id))
            groups.setdefault((key, campaign_id), []).append(row)
        docs = [
            eventlog.message_doc(key, campaign_id, kind, group)
            for (key, campaign_id), group in groups.items()
        ]
        insert_new(self.db.message_log, docs)

    def campaign_messages(self, campaign_id: str) -> list[dict[str, Any]]:
        docs = self.db.message_log.find({"campaign_id": campaign_id})
        return list(eventlog.fold_messages(docs).values())

    def status_counts(self) -> dict[str, Counter[str]]:
        """status -> messages per campaign in that status."""
        counts: dict[str, Counter[str]] = {}
        for row in eventlog.fold_messages(self.db.message_log.find({})).values():
            counts.setdefault(row["status"], Counter())[row["campaign_id"]] += 1
        return counts

    def delivery_times(self, customer_ids: set[str] | None = None) -> list[tuple[str, datetime]]:
        rows = eventlog.fold_messages(self.db.message_log.find({"kind": FINAL}))
        return [
            (r["customer_id"], r["final_at"])
            for r in rows.values()
            if r["status"] == "DELIVERED"
            and (customer_ids is None or r["customer_id"] in customer_ids)
        ]

    # -- campaigns and segments ----------------------------------------------------
    def update_campaigns(self, updates: dict[str, dict[str, Any]]) -> None:
        ops = [
            UpdateOne({"_id": cid}, {"$set": _present(fields)}, upsert=True)
            for cid, fields in updates.items()
            if _present(fields)
        ]
        for chunk in _chunks(ops):
            self.db.campaigns.bulk_write(list(chunk), ordered=False)

    def campaign(self, campaign_id: str) -> dict[str, Any] | None:
        doc = self.db.campaigns.find_one({"_id": campaign_id})
        return revive(doc) if doc else None

    def campaign_ids(self) -> list[str]:
        return [d["_id"] for d in self.db.campaigns.find({}, {"_id": 1})]

    def save_segments(self, segments: dict[str, dict[str, Any]]) -> None:
        ops = [
            UpdateOne({"_id": sid}, {"$set": _present(fields)}, upsert=True)
            for sid, fields in segments.items()
        ]
        if ops:
            self.db.segments.bulk_write(ops, ordered=False)

    def delete_segments(self, segment_ids: Sequence[str]) -> None:
        if segment_ids:
            self.db.segments.delete_many({"_id": {"$in": list(segment_ids)}})

    def segment(self, segment_id: str) -> dict[str, Any] | None:
        return self.db.segments.find_one({"_id": segment_id})

    def latest_campaigns(self, limit: int = 50) -> list[dict[str, Any]]:
        cursor = self.db.campaigns.find({}).sort("created_at", DESCENDING).limit(limit)
        return [revive(doc) for doc in cursor]
