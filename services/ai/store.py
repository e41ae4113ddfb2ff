"""The AI service's read models (its own database): the only module touching pymongo.

Collections, all keyed so that applying the same stream entry twice changes nothing:
- ``customers``: customer features (_id customer id) with the rule-engine field names
  (total_spends, visits, last_visit, order_count, last_order_at, city, tags, ...)
  plus ``base_spends`` (the ingested total) and ``order_total``;
- ``orders``: _id order id (amount, date, customer_id); customer aggregates are
  recomputed from it, so a redelivered order is never counted twice;
- ``messages``: _id message id, the latest state of each campaign message;
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

from pymongo import DESCENDING, UpdateMany, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from libs.common.events import CustomerRecord, FailedMessage, OrderRecord, Receipt, SentMessage
from libs.common.mongo import IndexSpec, ensure_indexes

INDEXES = (
    IndexSpec("orders", [("customer_id", 1)]),
    IndexSpec("messages", [("campaign_id", 1), ("status", 1)]),
    IndexSpec("messages", [("status", 1)]),
)
CHUNK = 500
DUPLICATE_KEY = 11000
_OPTIONAL = ("email", "phone", "city", "timezone", "last_visit", "created_at", "tags")


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


def _with_total_spends(doc: dict[str, Any]) -> dict[str, Any]:
    own, orders = float(doc.get("base_spends", 0)), float(doc.get("order_total", 0))
    doc["total_spends"] = round(own + orders, 2)
    return doc


def _customer_fields(record: CustomerRecord) -> dict[str, Any]:
    fields = _present(
        {
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


def _final_fields(receipt: Receipt) -> dict[str, Any]:
    fields = {
        "campaign_id": receipt.campaign_id,
        "customer_id": receipt.customer_id,
        "status": receipt.status,
        "final_at": receipt.at.replace(microsecond=0),
    }
    if receipt.status == "FAILED" and receipt.reason:
        fields["reason"] = receipt.reason
    return fields


def _customer_update(customer_id: str, fields: dict[str, Any]) -> UpdateOne:
    update: dict[str, Any] = {"$set": fields}
    missing = {k: "" for k in _OPTIONAL if k not in fields}
    if missing:
        update["$unset"] = missing
    return UpdateOne({"_id": customer_id}, update, upsert=True)


class AiStore:
    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.db = db

    def ensure_indexes(self) -> None:
        ensure_indexes(self.db, INDEXES)

    # -- customers and orders ------------------------------------------------------
    def upsert_customers(self, records: Sequence[CustomerRecord]) -> None:
        """One write per customer: a plain insert for a customer not seen yet (cheaper
        than an upsert on the embedded server), else an update of its own fields. The
        order aggregates are fields only refresh_aggregates writes, and total_spends is
        derived when read (customers()), so no recount is needed here."""
        latest = {r.id: _customer_fields(r) for r in records}  # last of a chunk wins
        for chunk in _chunks(list(latest)):
            ids = list(chunk)
            known = {d["_id"] for d in self.db.customers.find({"_id": {"$in": ids}}, {"_id": 1})}
            new = [{"_id": cid, **latest[cid]} for cid in ids if cid not in known]
            if new:
                known.update(self._insert_new(self.db.customers, new))
            if known:
                self.db.customers.bulk_write(
                    [_customer_update(cid, latest[cid]) for cid in known], ordered=False
                )

    @staticmethod
    def _insert_new(collection: Collection[dict[str, Any]], docs: list[dict[str, Any]]) -> set[str]:
        """Insert; returns the ids another writer created first (to be updated)."""
        try:
            collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            return {docs[e["index"]]["_id"] for e in errors}
        return set()

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
        """Recompute order aggregates from the orders themselves: idempotent by design,
        and independent of the customer's own fields, which upsert_customers writes."""
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
                self.db.customers.bulk_write(ops, ordered=False)

    def customers(self) -> list[dict[str, Any]]:
        """Every customer, with ``total_spends`` = own spend + order total."""
        return [_with_total_spends(revive(doc)) for doc in self.db.customers.find({})]

    def order_times(self, customer_ids: set[str] | None = None) -> list[tuple[str, datetime]]:
        rows = map(revive, self.db.orders.find({}, {"customer_id": 1, "date": 1}))
        return [
            (r["customer_id"], r["date"])
            for r in rows
            if r.get("date") is not None
            and (customer_ids is None or r["customer_id"] in customer_ids)
        ]

    # -- messages --------------------------------------------------------------------
    def apply_sent(self, messages: Sequence[SentMessage]) -> None:
        """Insert each message as SENT (one cheap write: the common case); a message
        whose receipt came first keeps its final status and gets the sent fields."""
        sent = {
            m.message_id: {
                "campaign_id": m.campaign_id,
                "customer_id": m.customer_id,
                "sent_at": m.at,
            }
            for m in messages
        }
        for chunk in _chunks(list(sent)):
            docs = [{"_id": mid, **sent[mid], "status": "SENT"} for mid in chunk]
            raced = self._insert_new(self.db.messages, docs)
            if raced:
                self._write_messages(
                    [UpdateOne({"_id": mid}, {"$set": sent[mid]}, upsert=True) for mid in raced]
                )

    def apply_receipts(self, receipts: Sequence[Receipt]) -> None:
        """Receipts of one outcome and second share one update_many over the messages
        inserted at sent (the common case: one cheap write each, no read); messages
        whose sent entry has not arrived yet are inserted whole. ``final_at`` is kept to
        the second, all the timing analysis needs."""
        finals = {r.message_id: _final_fields(r) for r in receipts}  # the last one wins
        for chunk in _chunks(list(finals)):
            ids = list(chunk)
            if self._set_finals(ids, finals, {}) < len(ids):
                self._insert_finals(ids, finals)

    def _set_finals(
        self, ids: Sequence[str], finals: dict[str, dict[str, Any]], only: dict[str, Any]
    ) -> int:
        groups: dict[tuple[tuple[str, Any], ...], list[str]] = {}
        for mid in ids:
            outcome = tuple(
                (k, v) for k, v in finals[mid].items() if k not in ("campaign_id", "customer_id")
            )
            groups.setdefault(outcome, []).append(mid)
        ops = [
            UpdateMany({"_id": {"$in": group}, **only}, {"$set": dict(outcome)})
            for outcome, group in groups.items()
        ]
        return int(self.db.messages.bulk_write(ops, ordered=False).matched_count)

    def _insert_finals(self, ids: Sequence[str], finals: dict[str, dict[str, Any]]) -> None:
        found = {d["_id"] for d in self.db.messages.find({"_id": {"$in": list(ids)}}, {"_id": 1})}
        # inserted at sent between the update and this read: still SENT, so set again
        if found:
            self._set_finals(list(found), finals, {"status": "SENT"})
        missing = [{"_id": mid, **finals[mid]} for mid in ids if mid not in found]
        raced = self._insert_new(self.db.messages, missing) if missing else set()
        if raced:
            self._write_messages(
                [UpdateOne({"_id": mid}, {"$set": finals[mid]}, upsert=True) for mid in raced]
            )

    def apply_failed(self, messages: Sequence[FailedMessage]) -> None:
        ops = [
            UpdateOne(
                {"_id": m.message_id},
                {
                    "$set": {
                        "campaign_id": m.campaign_id,
                        "customer_id": m.customer_id,
                        "status": "FAILED",
                        "reason": m.reason or "unknown",
                        "final_at": m.at,
                    }
                },
                upsert=True,
            )
            for m in messages
        ]
        self._write_messages(ops)

    def apply_cancelled(self, campaign_id: str, customer_ids: Sequence[str], at: datetime) -> None:
        ops = [
            UpdateOne(
                {"_id": f"{campaign_id}:{cid}"},
                {
                    "$set": {"campaign_id": campaign_id, "customer_id": cid, "final_at": at},
                    "$setOnInsert": {"status": "CANCELLED"},
                },
                upsert=True,
            )
            for cid in customer_ids
        ]
        self._write_messages(ops)

    def _write_messages(self, ops: list[UpdateOne]) -> None:
        for chunk in _chunks(ops):
            self.db.messages.bulk_write(list(chunk), ordered=False)

    def campaign_messages(self, campaign_id: str) -> list[dict[str, Any]]:
        projection = {"status": 1, "reason": 1, "sent_at": 1, "final_at": 1}
        return [revive(d) for d in self.db.messages.find({"campaign_id": campaign_id}, projection)]

    def counts_by_campaign(self, status: str) -> Counter[str]:
        """Messages per campaign in one status (one-key $group: both servers run it)."""
        rows = self.db.messages.aggregate(
            [{"$match": {"status": status}}, {"$group": {"_id": "$campaign_id", "n": {"$sum": 1}}}]
        )
        return Counter({row["_id"]: int(row["n"]) for row in rows if row.get("_id")})

    def delivery_times(self, customer_ids: set[str] | None = None) -> list[tuple[str, datetime]]:
        rows = map(
            revive,
            self.db.messages.find({"status": "DELIVERED"}, {"customer_id": 1, "final_at": 1}),
        )
        return [
            (r["customer_id"], r["final_at"])
            for r in rows
            if r.get("final_at") is not None
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
