"""The ingest database (the only module touching pymongo).

Collections:
- ``customers``: ``_id`` = customer id, fields named as libs.common.rules.FIELDS paths,
  built by services.ingest.aggregates (order aggregates recounted on every write).
- ``orders``: ``_id`` = order id; immutable (a re-sent order id changes nothing).
- ``imports`` / ``import_progress``: CSV jobs; progress is one row per processed entry.
- ``resolutions``: audience resolution progress per campaign (resume, never twice).
- ``audience_chunks``: the customer ids of each published send chunk, ``_id`` =
  ``<campaign id>:<chunk, 7 digits>``: the frozen audience a stalled campaign is
  replayed from (services.ingest.replay).

Customer writes are optimistic: read the documents (each has a ``version``, +1 per
write), build the new ones, then insert those that did not exist (a duplicate key means
another writer created it first) and replace the others only if ``version`` is
unchanged; the writes that lost a race are redone on the newer document. The documents
written (or found current) are returned, for the change notice. Whole-document insert or
replacement is also what keeps dates as dates on the embedded server, whose ``$set`` of
a datetime on an existing document stores a string.

Order aggregates stay exact because every order insert is followed by a recount of its
customers that reads the document, then the orders (so it sees every order inserted
before it), and writes only over the version it read. A customer record alone does not
read the orders: it carries the aggregates of the document it read (a new customer has
none), and its write lands only if that document is still current, so it can never
replace a recount's result with older aggregates, and a recount that loses the race to
it is redone on top of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, InsertOne, ReplaceOne, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from libs.common.errors import TransientError
from libs.common.events import CustomerRecord, OrderRecord
from libs.common.mongo import (
    DUPLICATE_KEY,
    IndexSpec,
    count_matching,
    drop_indexes,
    ensure_indexes,
    insert_new,
)
from services.ingest.aggregates import build_customer, same_content, version_of

Doc = dict[str, Any]
# Called with each write slice's documents as soon as they are in the database.
OnWritten = Callable[[list[Doc]], None] | None

INDEXES = [
    IndexSpec("orders", [("customer_id", ASCENDING)]),
    IndexSpec("import_progress", [("import_id", ASCENDING)]),
]
# Customers have no secondary index: the API's lists, counts and previews come from the
# in-memory read model, and on the embedded server these five cost ~33 us of its CPU per
# written document (97.5 -> 66.5 us/doc without them). Dropped where they still exist.
OBSOLETE_INDEXES = [
    IndexSpec("customers", [(path, ASCENDING)])
    for path in ("contactable", "name", "email", "total_spends", "last_visit")
]

AUDIENCE: Doc = {"contactable": True}
LISTED: Doc = {"placeholder": {"$exists": False}}
MAX_ATTEMPTS = 8
WRITE_SLICE = 2000


def audience_filter(rules_filter: Doc) -> Doc:
    """The one audience definition: the rules, on contactable customers only."""
    rules_filter = portable(rules_filter)
    return {"$and": [AUDIENCE, rules_filter]} if rules_filter else dict(AUDIENCE)


def portable(flt: Any) -> Any:
    """The same filter, spelled so the embedded server evaluates it right too.

    ``{f: {"$ne": v}}`` matches documents without ``f`` in MongoDB, but the embedded
    server drops them when the ``$ne`` sits in an ``$or``/``$and`` next to a date
    comparison (found by the property test); ``$or: [$ne, $exists false]`` means the
    same on both.
    """
    if isinstance(flt, list):
        return [portable(part) for part in flt]
    if not isinstance(flt, dict):
        return flt
    out: Doc = {}
    extra: list[Doc] = []
    for key, value in flt.items():
        if key in ("$and", "$or", "$nor"):
            out[key] = portable(value)
        elif isinstance(value, dict) and set(value) == {"$ne"}:
            extra.append({"$or": [{key: value}, {key: {"$exists": False}}]})
        else:
            out[key] = value
    if not extra:
        return out
    parts = [out, *extra] if out else extra
    return parts[0] if len(parts) == 1 else {"$and": parts}


class CustomerStore:
    def __init__(self, db: Database[Doc]) -> None:
        self.db = db
        self.customers = db["customers"]
        self.orders = db["orders"]
        self.imports = db["imports"]
        self.progress = db["import_progress"]
        self.resolutions = db["resolutions"]
        self.audience_chunks = db["audience_chunks"]

    def ensure_indexes(self) -> None:
        drop_indexes(self.db, OBSOLETE_INDEXES)
        ensure_indexes(self.db, INDEXES)

    # -- writes (ingest worker) ------------------------------------------------------
    def upsert_customers(
        self, records: Sequence[CustomerRecord], on_written: OnWritten = None
    ) -> list[Doc]:
        latest = {r.id: r for r in records}  # the last record of an id in a batch wins
        return self.write_customers(list(latest), latest, on_written)

    def insert_orders(
        self, records: Sequence[OrderRecord], on_written: OnWritten = None
    ) -> list[Doc]:
        docs = [
            {
                "_id": r.id,
                "customer_id": r.customer_id,
                "amount": round(r.amount, 2),
                "date": r.date,
                **({"items": r.items} if r.items else {}),
            }
            for r in _first_of_each_id(records)
        ]
        insert_new(self.orders, docs)  # an order is immutable: a re-sent id is ignored
        ids = list(dict.fromkeys(r.customer_id for r in records))
        return self.write_customers(ids, {}, on_written)

    def recorded_orders(self, ids: Sequence[str]) -> dict[str, Doc]:
        """The stored orders among ``ids`` (what the API compares a re-sent id with)."""
        fields = {"customer_id": True, "amount": True, "items": True}
        found = self.orders.find({"_id": {"$in": list(dict.fromkeys(ids))}}, fields)
        return {doc["_id"]: doc for doc in found}

    def write_customers(
        self,
        ids: Sequence[str],
        records: Mapping[str, CustomerRecord],
        on_written: OnWritten = None,
    ) -> list[Doc]:
        """Rebuild these customers from their record (if given; else recount their
        orders); returns the documents to announce: those written, and those found
        already equal to their rebuild, as stored (a redelivery after a crash between
        the write and its change notice must announce them again).

        ``on_written`` gets each slice's documents right after the slice is written, so
        the read model never waits for the rest of a long run to learn of them."""
        if len(ids) > WRITE_SLICE:  # keeps each $in query and bulk write moderate
            return [
                doc
                for start in range(0, len(ids), WRITE_SLICE)
                for doc in self.write_customers(
                    ids[start : start + WRITE_SLICE], records, on_written
                )
            ]
        pending, changed = list(ids), list[Doc]()
        for _ in range(MAX_ATTEMPTS):
            if not pending:
                if on_written is not None:
                    on_written(changed)
                return changed
            done, lost = self._write_once(pending, records)
            changed.extend(doc for cid, doc in done.items() if cid not in lost)
            pending = [cid for cid in done if cid in lost]
        if on_written is not None:
            on_written(changed)  # what did land is announced before the error
        raise TransientError(f"customers kept changing under this write: {pending[:5]}")

    def _write_once(
        self, ids: Sequence[str], records: Mapping[str, CustomerRecord]
    ) -> tuple[dict[str, Doc], set[str]]:
        """Write once; returns the documents written or already current (by id), and
        the ids whose write lost a race."""
        # The document is read before the orders: see the module docstring.
        olds = {d["_id"]: d for d in self.customers.find({"_id": {"$in": list(ids)}})}
        orders = self._orders_of([cid for cid in ids if cid not in records])
        now = datetime.now(UTC)
        inserts: dict[str, Doc] = {}  # id -> new document, for ids without one
        replaces: dict[str, tuple[Any, Doc]] = {}  # id -> (version read, new document)
        current: dict[str, Doc] = {}  # already stored as rebuilt
        for cid in ids:
            old = olds.get(cid)
            recount = None if cid in records else orders.get(cid, [])
            new = build_customer(old, records.get(cid), recount, now)
            if new is None:
                continue
            if old is not None and same_content(old, new):
                current[cid] = old
                continue
            new = {"_id": cid, **new, "version": version_of(old) + 1, "updated_at": now}
            if old is None:
                inserts[cid] = new
            else:
                replaces[cid] = (old.get("version"), new)
        lost = self._bulk_write(list(inserts.values()), replaces)
        return {**current, **inserts, **{cid: doc for cid, (_, doc) in replaces.items()}}, lost

    def _bulk_write(self, inserts: list[Doc], replaces: Mapping[str, tuple[Any, Doc]]) -> set[str]:
        """One unordered bulk of inserts and version-guarded replaces; returns the ids
        whose write lost a race (inserted first by another, or replaced meanwhile)."""
        ops: list[Any] = [InsertOne(doc) for doc in inserts]
        ops += [ReplaceOne({"_id": cid, "version": v}, doc) for cid, (v, doc) in replaces.items()]
        if not ops:
            return set()
        lost: set[str] = set()
        try:
            matched = self.customers.bulk_write(ops, ordered=False).matched_count
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if exc.details.get("writeConcernErrors") or any(
                e.get("code") != DUPLICATE_KEY or e["index"] >= len(inserts) for e in errors
            ):
                raise
            lost = {inserts[e["index"]]["_id"] for e in errors}
            matched = int(exc.details.get("nMatched", 0))
        if matched < len(replaces):  # a lost replace shows as a missing match
            # Versions count writes, so a competitor that read the same document wrote
            # the same version number: only the same content as well means ours landed.
            stored = {d["_id"]: d for d in self.customers.find({"_id": {"$in": list(replaces)}})}
            lost.update(
                cid
                for cid, (_, doc) in replaces.items()
                if cid not in stored
                or stored[cid].get("version") != doc["version"]
                or not same_content(stored[cid], doc)
            )
        return lost

    def _orders_of(self, ids: Sequence[str]) -> dict[str, list[Doc]]:
        orders: dict[str, list[Doc]] = {}
        if ids:
            for found in self.orders.find(
                {"customer_id": {"$in": list(ids)}}, {"customer_id": 1, "amount": 1, "date": 1}
            ):
                orders.setdefault(found["customer_id"], []).append(found)
        return orders

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
        total = count_matching(self.customers, flt)
        cursor = self.customers.find(flt).sort([*sort, ("_id", ASCENDING)])
        return list(cursor.skip(skip).limit(limit)), total

    def customers_in_order(self, ids: Sequence[str]) -> list[Doc]:
        """These customers (one ``$in`` query), in the order of ``ids``."""
        found = {d["_id"]: d for d in self.customers.find({"_id": {"$in": list(ids)}})}
        return [found[cid] for cid in ids if cid in found]

    def get_customer(self, customer_id: str) -> Doc | None:
        return self.customers.find_one({"_id": customer_id})

    def orders_of(self, customer_id: str, limit: int = 200) -> list[Doc]:
        cursor = self.orders.find({"customer_id": customer_id}).sort("date", DESCENDING)
        return list(cursor.limit(limit))

    def count_listed(self) -> int:
        return count_matching(self.customers, LISTED)

    def order_stats(self) -> Doc:
        revenue = 0.0
        for row in self.orders.aggregate(
            [{"$group": {"_id": None, "revenue": {"$sum": "$amount"}}}]
        ):
            revenue = float(row.get("revenue") or 0)
        return {
            "orders": count_matching(self.orders, {}),
            "revenue": round(revenue, 2),
        }

    def count(self, flt: Doc) -> int:
        return count_matching(self.customers, flt)

    def sample(self, flt: Doc, size: int) -> list[Doc]:
        if size <= 0:
            return []
        return list(self.customers.find(flt).sort("_id", ASCENDING).limit(size))

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

    def fail_import(self, import_id: str, reason: str) -> None:
        self.imports.update_one(
            {"_id": import_id}, {"$set": {"status": "failed", "reason": reason}}
        )

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
        fields["saved_ms"] = _now_ms()
        self.resolutions.update_one({"_id": campaign_id}, {"$set": fields})

    def touch_resolution(self, campaign_id: str) -> None:
        """A replay of it made progress (see ``save_resolution``'s ``saved_ms``)."""
        self.resolutions.update_one({"_id": campaign_id}, {"$set": {"saved_ms": _now_ms()}})

    def save_chunk_members(self, campaign_id: str, chunks: Sequence[tuple[int, list[str]]]) -> None:
        """Who each chunk holds, written before the chunks are published (a chunk
        published twice after a crash is written twice, the same)."""
        ops = [
            ReplaceOne(
                {"_id": _chunk_id(campaign_id, chunk)},
                {
                    "_id": _chunk_id(campaign_id, chunk),  # the embedded server needs it
                    "campaign_id": campaign_id,
                    "chunk": chunk,
                    "customer_ids": ids,
                },
                upsert=True,
            )
            for chunk, ids in chunks
        ]
        if ops:
            self.audience_chunks.bulk_write(ops, ordered=False)

    def forget_chunk_member(self, customer_id: str) -> int:
        """An erased customer leaves every stored chunk (a replay then skips them)."""
        changed = 0
        for doc in self.audience_chunks.find({"customer_ids": customer_id}):
            doc["customer_ids"] = [c for c in doc["customer_ids"] if c != customer_id]
            changed += self.audience_chunks.replace_one({"_id": doc["_id"]}, doc).modified_count
        return changed

    def chunk_members(self, campaign_id: str) -> Iterator[tuple[int, list[str]]]:
        """The stored chunks of a campaign, in chunk order."""
        flt = {"_id": {"$gte": f"{campaign_id}:", "$lt": f"{campaign_id};"}}
        for doc in self.audience_chunks.find(flt).sort("_id", ASCENDING):
            yield int(doc["chunk"]), list(doc["customer_ids"])


def _now_ms() -> int:
    """Epoch ms: the embedded server's ``$set`` of a datetime stores a string."""
    return int(datetime.now(UTC).timestamp() * 1000)


def _chunk_id(campaign_id: str, chunk: int) -> str:
    return f"{campaign_id}:{chunk:07d}"


def _first_of_each_id(records: Sequence[OrderRecord]) -> list[OrderRecord]:
    """An order id's first record wins, inside an entry as across entries."""
    first: dict[str, OrderRecord] = {}
    for record in records:
        first.setdefault(record.id, record)
    return list(first.values())
