"""The only module that touches MongoDB: ``communications`` and ``campaign_controls``.

``communications._id`` is the message id ``"{campaign_id}:{customer_id}"``: one row per
campaign and customer by construction, so a redelivered send entry cannot create a
second one. Every status change is a conditional update on the current status, or the
insert of a row final at once, so a status never moves backwards and a duplicate is a
no-op. Documents never hold null or empty lists (keys are omitted instead).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateMany, UpdateOne
from pymongo.database import Database

from libs.common.mongo import IndexSpec, count_matching, ensure_indexes, insert_new_reporting
from services.delivery.metrics import MESSAGES
from services.delivery.models import CANCELLED, HELD, SENT, WAITING

COMMUNICATIONS = "communications"
CONTROLS = "campaign_controls"
REFUSED = "refused_receipts"  # receipts the webhook refused, kept for inspection
ID_QUERY_CHUNK = 1000
FIND_CHUNK = 10_000  # a send worker's read of 20 entries of 500 recipients: one query
# Rows per insert command: the receipt worker's read of 20 entries can be 10,000 rows,
# which nx-27017 holds decoded, copied and serialised at once. 200,000-recipient
# campaign: 10,000 -> 49.7 s, its peak 83 MB; 1,000 -> 57.1 s (a fixed cost per
# command), 59 MB.
INSERT_CHUNK = 5000

INDEXES = (
    # (campaign_id, status, _id) would also serve the _id order of held batches and pages
    # on MongoDB, but nx-27017 refuses writes once an index names _id.
    IndexSpec(COMMUNICATIONS, [("campaign_id", ASCENDING), ("status", ASCENDING)]),
    IndexSpec(COMMUNICATIONS, [("customer_id", ASCENDING)]),
    IndexSpec(COMMUNICATIONS, [("status", ASCENDING)]),
    IndexSpec(REFUSED, [("received_at", ASCENDING)]),
)

Doc = dict[str, Any]


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class DeliveryStore:
    def __init__(self, db: Database[Doc]) -> None:
        self.db = db
        self.comms = db[COMMUNICATIONS]
        self.controls = db[CONTROLS]
        self.refused = db[REFUSED]

    def ensure_indexes(self) -> None:
        ensure_indexes(self.db, INDEXES)

    # -- communications: the send path ---------------------------------------------
    def find_existing(self, ids: Sequence[str]) -> dict[str, Doc]:
        """The rows that already exist among ``ids``, by ``_id $in`` queries of up to
        ``FIND_CHUNK`` ids (~5 us of database time an id on nx-27017, found or not).

        Not an ``_id`` range, although a campaign's ids share its prefix: nx-27017
        answers a range on ``_id`` by reading every row of the collection (2 s at
        200,000 rows).
        """
        found: dict[str, Doc] = {}
        fields = {"body": False, "to": False}
        for part in _chunks(list(ids), FIND_CHUNK):
            for doc in self.comms.find({"_id": {"$in": list(part)}}, fields):
                found[doc["_id"]] = doc
        return found

    def insert_new(self, docs: Sequence[Doc]) -> list[str]:
        """Insert rows in one bulk write; a row that already exists is left as it is.
        Returns the ids of those."""
        existing: list[str] = []
        for part in _chunks(docs, INSERT_CHUNK):
            existing += insert_new_reporting(self.comms, part)
        skipped = set(existing)
        written = Counter(doc["status"] for doc in docs if doc["_id"] not in skipped)
        for status, count in written.items():
            MESSAGES.labels(status).inc(count)
        return existing

    def update_held(self, changes: Sequence[tuple[str, Doc]]) -> int:
        """Move held rows on (sent or failed), each only if it is still held."""
        if not changes:
            return 0
        ops = [UpdateOne({"_id": _id, "status": HELD}, {"$set": fields}) for _id, fields in changes]
        for _id, fields in changes:
            MESSAGES.labels(fields["status"]).inc()
        return self.comms.bulk_write(ops, ordered=False).modified_count

    def held_batch(self, campaign_id: str, limit: int) -> list[Doc]:
        cursor = self.comms.find({"campaign_id": campaign_id, "status": HELD})
        return list(cursor.sort("_id", ASCENDING).limit(limit))

    def waiting_batch(self, campaign_id: str, limit: int) -> list[Doc]:
        cursor = self.comms.find({"campaign_id": campaign_id, "status": WAITING})
        return list(cursor.sort("_id", ASCENDING).limit(limit))

    def release_waiting(self, changes: Sequence[tuple[str, Doc]], now: datetime) -> int:
        """Waiting rows become held (rendered) or failed, each only if still waiting."""
        if not changes:
            return 0
        ops = [
            UpdateOne(
                {"_id": _id, "status": WAITING},
                {
                    "$set": {**fields, "updated_at": now},
                    "$unset": {"recipient": "", "requested_channel": ""},
                },
            )
            for _id, fields in changes
        ]
        return self.comms.bulk_write(ops, ordered=False).modified_count

    def campaigns_with_held(self) -> list[str]:
        """One indexed lookup per campaign found, plus one. Not ``distinct``: nx-27017
        reads every row for it (0.25 s at 200,000 rows, every sweep, on the database
        the campaign is writing to)."""
        found: list[str] = []
        while doc := self.comms.find_one(
            {"status": HELD, "campaign_id": {"$nin": found}}, {"campaign_id": True}
        ):
            found.append(doc["campaign_id"])
        return sorted(found)

    def cancel_held(self, ids: Sequence[str], reason: str, now: datetime) -> int:
        result = self.comms.update_many(
            {"_id": {"$in": list(ids)}, "status": HELD},
            {"$set": {"status": CANCELLED, "reason": reason, "updated_at": now}},
        )
        return result.modified_count

    # -- communications: receipts --------------------------------------------------
    def complete_rows(self, contents: Sequence[tuple[str, Doc]]) -> int:
        """Add what was sent to rows written from their receipt alone (a receipt read
        before its message's announcement): only rows without a channel yet."""
        if not contents:
            return 0
        ops = [
            UpdateOne({"_id": _id, "channel": {"$exists": False}}, {"$set": fields})
            for _id, fields in contents
        ]
        return self.comms.bulk_write(ops, ordered=False).modified_count

    def receipt_marks(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """``(status, receipt_batch)`` of each existing row among ``ids`` (the token is ""
        when the row has none)."""
        found: dict[str, tuple[str, str]] = {}
        fields = {"status": True, "receipt_batch": True}
        for part in _chunks(list(ids), ID_QUERY_CHUNK):
            for doc in self.comms.find({"_id": {"$in": list(part)}}, fields):
                found[doc["_id"]] = (str(doc["status"]), str(doc.get("receipt_batch", "")))
        return found

    def apply_final(self, groups: Sequence[tuple[Sequence[str], Doc]]) -> int:
        """Set a final status on the rows that are still ``sent`` (never backwards): one
        bulk write (one round trip) of one ``UpdateMany`` per group of rows given the same
        fields; returns how many rows matched."""
        ops = [
            UpdateMany({"_id": {"$in": list(part)}, "status": SENT}, {"$set": fields})
            for ids, fields in groups
            for part in _chunks(list(ids), ID_QUERY_CHUNK)
        ]
        if not ops:
            return 0
        return self.comms.bulk_write(ops, ordered=False).matched_count

    # -- communications: reads for the API -----------------------------------------
    def page(
        self, campaign_id: str, statuses: Sequence[str], page: int, page_size: int
    ) -> tuple[list[Doc], int]:
        """One page of a campaign's messages with any of ``statuses`` (all when empty)."""
        query: Doc = {"campaign_id": campaign_id}
        if len(statuses) == 1:
            query["status"] = statuses[0]
        elif statuses:
            query["status"] = {"$in": list(statuses)}
        total = count_matching(self.comms, query)
        cursor = self.comms.find(query).sort("_id", ASCENDING)
        docs = list(cursor.skip((page - 1) * page_size).limit(page_size))
        return docs, total

    def for_customer(self, customer_id: str, limit: int) -> list[Doc]:
        cursor = self.comms.find({"customer_id": customer_id}).sort("_id", ASCENDING)
        return list(cursor.limit(limit))

    # -- refused receipts ------------------------------------------------------------
    def keep_refused(self, docs: Sequence[Doc]) -> None:
        if docs:
            self.refused.insert_many(list(docs), ordered=False)

    def latest_refused(self, limit: int) -> list[Doc]:
        return list(self.refused.find().sort("received_at", DESCENDING).limit(limit))

    # -- campaign controls (paused / cancelled), delivery's own read model -----------
    def get_controls(self, campaign_ids: Iterable[str]) -> dict[str, Doc]:
        ids = sorted(set(campaign_ids))
        return {doc["_id"]: doc for doc in self.controls.find({"_id": {"$in": ids}})}

    def set_control(self, campaign_id: str, state: str, reason: str, now: datetime) -> bool:
        """Record a campaign's state; a cancelled campaign stays cancelled."""
        current = self.controls.find_one({"_id": campaign_id})
        if current is not None and current.get("state") == CANCELLED:
            return False
        self.controls.update_one(
            {"_id": campaign_id},
            {"$set": {"state": state, "reason": reason, "updated_at": now}},
            upsert=True,
        )
        return True
