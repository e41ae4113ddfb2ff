"""The ingest database (the only module touching pymongo).

Collections:
- ``customers``: ``_id`` = customer id, fields named as libs.common.rules.FIELDS paths.
  The customer record's own spend and last visit are kept as ``base_spends`` /
  ``base_last_visit``; ``total_spends``, ``order_count``, ``order_spends``,
  ``last_order_at`` and ``last_visit`` are derived from them plus the ``orders``
  collection by :func:`CustomerStore.recompute`, which makes order aggregates exactly
  once by construction (a recount, never an increment). ``rev`` counts record upserts;
  derived writes are conditional on it so a stale recount never overwrites a newer one.
  An order for an unknown customer creates a ``placeholder: true`` document holding only
  the aggregates; ``contactable: true`` marks real customers with an email or phone.
  Audiences (preview and resolver) are ``contactable`` customers only.
- ``orders``: ``_id`` = order id; immutable (a re-sent order id changes nothing).
- ``imports`` / ``import_progress``: CSV jobs; progress is one row per processed entry.
- ``resolutions``: audience resolution progress per campaign (resume, never twice).
None and empty lists are never stored: absent keys mean unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.database import Database

from libs.common.events import CustomerRecord, OrderRecord
from libs.common.mongo import IndexSpec, ensure_indexes

Doc = dict[str, Any]

INDEXES = [
    IndexSpec("customers", [("contactable", ASCENDING)]),
    IndexSpec("customers", [("name", ASCENDING)]),
    IndexSpec("customers", [("email", ASCENDING)]),
    IndexSpec("customers", [("total_spends", ASCENDING)]),
    IndexSpec("customers", [("last_visit", ASCENDING)]),
    IndexSpec("orders", [("customer_id", ASCENDING)]),
    IndexSpec("import_progress", [("import_id", ASCENDING)]),
]

AUDIENCE: Doc = {"contactable": True}
LISTED: Doc = {"placeholder": {"$exists": False}}
_OPTIONAL = ("phone", "city", "timezone", "tags", "attributes", "base_last_visit")
_DERIVED = ("total_spends", "order_spends", "order_count", "last_order_at", "last_visit")


def audience_filter(rules_filter: Doc) -> Doc:
    """The one audience definition: the rules, on contactable customers only."""
    return {"$and": [AUDIENCE, rules_filter]} if rules_filter else dict(AUDIENCE)


def _record_doc(record: CustomerRecord) -> tuple[Doc, list[str]]:
    """(fields to set, optional fields to remove) for one customer record."""
    doc: Doc = {
        "name": record.name,
        "visits": record.visits,
        "base_spends": round(record.total_spends, 2),
        "updated_at": datetime.now(UTC),
    }
    optional = {
        "email": record.email,
        "phone": record.phone,
        "city": record.city,
        "timezone": record.timezone,
        "tags": record.tags or None,
        "attributes": record.attributes or None,
        "base_last_visit": record.last_visit,
        "created_at": record.created_at,
    }
    doc.update({k: v for k, v in optional.items() if v is not None})
    if record.email or record.phone:
        doc["contactable"] = True
    unset = [k for k in (*_OPTIONAL, "email", "contactable") if k not in doc]
    return doc, unset


def derive(base: Doc | None, orders: Sequence[Doc]) -> Doc:
    """Aggregates of one customer from its record (``base``) and all its orders."""
    base = base or {}
    order_spends = round(sum(float(o["amount"]) for o in orders), 2)
    out: Doc = {
        "order_count": len(orders),
        "order_spends": order_spends,
        "total_spends": round(float(base.get("base_spends", 0)) + order_spends, 2),
    }
    last_order = max((_utc(o["date"]) for o in orders), default=None)
    if last_order is not None:
        out["last_order_at"] = last_order
    visits = [d for d in (_utc(base.get("base_last_visit")), last_order) if d is not None]
    if visits:
        out["last_visit"] = max(visits)
    return out


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class CustomerStore:
    def __init__(self, db: Database[Doc]) -> None:
        self.db = db
        self.customers = db["customers"]
        self.orders = db["orders"]
        self.imports = db["imports"]
        self.progress = db["import_progress"]
        self.resolutions = db["resolutions"]

    def ensure_indexes(self) -> None:
        ensure_indexes(self.db, INDEXES)

    # -- writes (ingest worker) ------------------------------------------------------
    def upsert_customers(self, records: Sequence[CustomerRecord]) -> list[str]:
        latest = {r.id: r for r in records}  # the last record of an id in a batch wins
        ops = []
        for record in latest.values():
            doc, unset = _record_doc(record)
            update: Doc = {"$set": doc, "$inc": {"rev": 1}}
            update["$unset"] = {k: "" for k in [*unset, "placeholder"]}
            if "created_at" not in doc:
                update["$setOnInsert"] = {"created_at": doc["updated_at"]}
            ops.append(UpdateOne({"_id": record.id}, update, upsert=True))
        if ops:
            self.customers.bulk_write(ops, ordered=False)
        return list(latest)

    def insert_orders(self, records: Sequence[OrderRecord]) -> list[str]:
        ops = [
            UpdateOne(
                {"_id": r.id},
                {
                    "$setOnInsert": {
                        "customer_id": r.customer_id,
                        "amount": round(r.amount, 2),
                        "date": r.date,
                        **({"items": r.items} if r.items else {}),
                    }
                },
                upsert=True,
            )
            for r in {r.id: r for r in records}.values()
        ]
        if ops:
            self.orders.bulk_write(ops, ordered=False)
        return list(dict.fromkeys(r.customer_id for r in records))

    def recompute(self, customer_ids: Sequence[str]) -> None:
        """Recount the aggregates of these customers from their record and orders."""
        ids = list(dict.fromkeys(customer_ids))
        if not ids:
            return
        bases = {
            d["_id"]: d
            for d in self.customers.find(
                {"_id": {"$in": ids}},
                {"base_spends": 1, "base_last_visit": 1, "rev": 1, "order_count": 1},
            )
        }
        orders: dict[str, list[Doc]] = {}
        for order in self.orders.find(
            {"customer_id": {"$in": ids}}, {"customer_id": 1, "amount": 1, "date": 1}
        ):
            orders.setdefault(order["customer_id"], []).append(order)
        ops = []
        for cid in ids:
            base, mine = bases.get(cid), orders.get(cid, [])
            derived = derive(base, mine)
            if base is None:
                if mine:
                    insert = {**derived, "placeholder": True, "rev": 0}
                    ops.append(UpdateOne({"_id": cid}, {"$setOnInsert": insert}, upsert=True))
                continue
            # Orders are only ever added, so a recount with fewer orders is stale.
            guard: Doc = {
                "_id": cid,
                "rev": base.get("rev", 0),
                "$or": [
                    {"order_count": {"$exists": False}},
                    {"order_count": {"$lte": len(mine)}},
                ],
            }
            update: Doc = {"$set": derived}
            missing = [k for k in _DERIVED if k not in derived]
            if missing:
                update["$unset"] = {k: "" for k in missing}
            ops.append(UpdateOne(guard, update))
        if ops:
            self.customers.bulk_write(ops, ordered=False)

    def record_import_progress(self, rows: Iterable[tuple[str, str, int]]) -> None:
        """(import id, entry id, records) per processed entry; idempotent per entry."""
        ops = [
            UpdateOne(
                {"_id": entry_id},
                {"$setOnInsert": {"import_id": import_id, "records": n}},
                upsert=True,
            )
            for import_id, entry_id, n in rows
        ]
        if ops:
            self.progress.bulk_write(ops, ordered=False)

    # -- reads (API) -----------------------------------------------------------------
    def list_customers(
        self, *, skip: int, limit: int, sort: list[tuple[str, int]], query: Doc
    ) -> tuple[list[Doc], int]:
        flt = {"$and": [LISTED, query]} if query else LISTED
        total = self.customers.count_documents(flt)
        cursor = self.customers.find(flt).sort([*sort, ("_id", ASCENDING)])
        return list(cursor.skip(skip).limit(limit)), total

    def get_customer(self, customer_id: str) -> Doc | None:
        return self.customers.find_one({"_id": customer_id})

    def orders_of(self, customer_id: str, limit: int = 200) -> list[Doc]:
        cursor = self.orders.find({"customer_id": customer_id}).sort("date", DESCENDING)
        return list(cursor.limit(limit))

    def stats(self) -> Doc:
        revenue = 0.0
        for row in self.orders.aggregate(
            [{"$group": {"_id": None, "revenue": {"$sum": "$amount"}}}]
        ):
            revenue = float(row.get("revenue") or 0)
        return {
            "customers": self.customers.count_documents(LISTED),
            "orders": self.orders.count_documents({}),
            "revenue": round(revenue, 2),
        }

    def count(self, flt: Doc) -> int:
        return self.customers.count_documents(flt)

    def sample(self, flt: Doc, size: int) -> list[Doc]:
        if size <= 0:
            return []
        return list(self.customers.find(flt).sort("_id", ASCENDING).limit(size))

    def by_ids(self, ids: Sequence[str]) -> list[Doc]:
        return list(self.customers.find({"_id": {"$in": list(ids)}}))

    def scan(self, batch_size: int) -> Iterator[Doc]:
        """Every customer (for the columnar read model), in server order."""
        yield from self.customers.find({}, batch_size=batch_size)

    def walk(self, flt: Doc, after_id: str | None, batch_size: int) -> Iterator[Doc]:
        """The audience in ``_id`` order, resuming after ``after_id``."""
        if after_id is not None:
            flt = {"$and": [flt, {"_id": {"$gt": after_id}}]}
        cursor = self.customers.find(flt, batch_size=batch_size).sort("_id", ASCENDING)
        yield from cursor

    # -- CSV imports -----------------------------------------------------------------
    def create_import(self, doc: Doc) -> None:
        self.imports.insert_one(doc)

    def get_import(self, import_id: str) -> tuple[Doc, int, int] | None:
        """(job, entries processed, records processed)."""
        job = self.imports.find_one({"_id": import_id})
        if job is None:
            return None
        entries = records = 0
        for row in self.progress.find({"import_id": import_id}, {"records": 1}):
            entries += 1
            records += int(row.get("records", 0))
        return job, entries, records

    # -- audience resolutions ----------------------------------------------------------
    def get_resolution(self, campaign_id: str) -> Doc | None:
        return self.resolutions.find_one({"_id": campaign_id})

    def start_resolution(self, campaign_id: str, now: datetime) -> Doc:
        self.resolutions.update_one(
            {"_id": campaign_id},
            {"$setOnInsert": {"status": "resolving", "chunks": 0, "total": 0, "now": now}},
            upsert=True,
        )
        doc = self.resolutions.find_one({"_id": campaign_id})
        assert doc is not None
        return doc

    def save_resolution(
        self, campaign_id: str, *, chunks: int, total: int, last_id: str | None, done: bool
    ) -> None:
        fields: Doc = {"chunks": chunks, "total": total, "status": "done" if done else "resolving"}
        if last_id is not None:
            fields["last_id"] = last_id
        self.resolutions.update_one({"_id": campaign_id}, {"$set": fields})
