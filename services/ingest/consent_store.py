"""Ingest's consent collections (pymongo), next to the customers they are about.

- ``suppressions``: ``_id`` = ``<channel>:<address hash>``; ``address`` (absent once
  the person is erased: the hash alone keeps the address suppressed), ``reason``,
  ``source`` (admin, import, vendor, link, erasure), ``created_at``.
- ``unsubscriptions``: one row per campaign, person (hashed id) and channel: what the
  campaign pages count as "unsubscribed: n".
- ``erasures``: ``_id`` = the hash of an erased customer's id; each service's
  confirmation under ``confirmations.<service>``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReplaceOne
from pymongo.database import Database

from libs.common.consent import address_hash, normalise
from libs.common.mongo import IndexSpec, ensure_indexes, insert_new

Doc = dict[str, Any]
INDEXES = [
    IndexSpec("suppressions", [("channel", ASCENDING), ("created_at", DESCENDING)]),
    IndexSpec("unsubscriptions", [("campaign_id", ASCENDING)]),
]


def person_hash(customer_id: str) -> str:
    return hashlib.sha256(f"customer:{customer_id}".encode()).hexdigest()


def suppression_doc(
    channel: str,
    address: str,
    reason: str,
    source: str,
    now: datetime,
    campaign_id: str | None = None,
) -> Doc:
    digest = address_hash(channel, address)
    doc: Doc = {
        "_id": f"{channel}:{digest}",
        "channel": channel,
        "hash": digest,
        "address": normalise(channel, address),
        "reason": reason,
        "source": source,
        "created_at": now,
    }
    if campaign_id:
        doc["campaign_id"] = campaign_id
    return doc


class ConsentStore:
    def __init__(self, db: Database[Doc]) -> None:
        self.db = db
        self.suppressions = db["suppressions"]
        self.unsubscriptions = db["unsubscriptions"]
        self.erasures = db["erasures"]

    def ensure_indexes(self) -> None:
        ensure_indexes(self.db, INDEXES)

    # -- suppressions ------------------------------------------------------------------
    def add_suppressions(self, docs: Sequence[Doc]) -> list[Doc]:
        """Insert the ones not listed yet; returns those that are new."""
        if not docs:
            return []
        unique = list({d["_id"]: d for d in docs}.values())
        known = {
            d["_id"]
            for d in self.suppressions.find(
                {"_id": {"$in": [d["_id"] for d in unique]}}, {"_id": 1}
            )
        }
        new = [d for d in unique if d["_id"] not in known]
        insert_new(self.suppressions, new)
        return new

    def remove_suppression(self, suppression_id: str) -> Doc | None:
        doc = self.suppressions.find_one({"_id": suppression_id})
        if doc is not None:
            self.suppressions.delete_one({"_id": suppression_id})
        return doc

    def list_suppressions(
        self, channel: str | None, search: str | None, limit: int, offset: int
    ) -> tuple[list[Doc], int]:
        query: Doc = {"channel": channel} if channel else {}
        ordered = self.suppressions.find(query).sort("created_at", DESCENDING)
        if search:
            # matched here, not by $regex: the embedded server's regex misread addresses
            needle = search.strip().lower()
            hits = [d for d in ordered if needle in str(d.get("address", ""))]
            return hits[offset : offset + limit], len(hits)
        total = self.suppressions.count_documents(query)
        return list(ordered.skip(offset).limit(limit)), total

    def suppressed_hashes(self, channel: str) -> set[str]:
        return {d["hash"] for d in self.suppressions.find({"channel": channel}, {"hash": 1})}

    def suppressed_addresses(self, channel: str) -> list[str]:
        """The plain addresses (erased people's are hash-only: see ``relink``)."""
        found = self.suppressions.find({"channel": channel, "address": {"$exists": True}})
        return [d["address"] for d in found]

    def has_hash_only(self) -> bool:
        return self.suppressions.find_one({"address": {"$exists": False}}, {"_id": 1}) is not None

    def relink(self, channel: str, addresses: Iterable[str]) -> int:
        """Give hash-only suppressions their address back when it is imported again, so
        the audience (which compares plain addresses) leaves it out as before."""
        by_hash = {address_hash(channel, a): normalise(channel, a) for a in addresses if a}
        if not by_hash:
            return 0
        found = list(
            self.suppressions.find(
                {"channel": channel, "hash": {"$in": list(by_hash)}, "address": {"$exists": False}}
            )
        )
        writes = [
            ReplaceOne({"_id": d["_id"]}, {**d, "address": by_hash[d["hash"]]}) for d in found
        ]
        if writes:
            self.suppressions.bulk_write(writes, ordered=False)
        return len(writes)

    def forget_addresses(self, hashes: Sequence[str]) -> int:
        """Keep these suppressions as hashes only (an erased person)."""
        if not hashes:
            return 0
        result = self.suppressions.update_many(
            {"hash": {"$in": list(hashes)}}, {"$unset": {"address": "", "campaign_id": ""}}
        )
        return int(result.modified_count)

    # -- unsubscriptions ---------------------------------------------------------------
    def record_unsubscription(
        self, campaign_id: str, customer_id: str, channel: str, at: datetime
    ) -> None:
        who = person_hash(customer_id)
        doc = {"_id": f"{campaign_id}:{who}:{channel}", "campaign_id": campaign_id, "at": at}
        insert_new(self.unsubscriptions, [{**doc, "channel": channel}])

    def unsubscriptions_of(self, campaign_id: str) -> int:
        return self.unsubscriptions.count_documents({"campaign_id": campaign_id})

    # -- erasures ----------------------------------------------------------------------
    def start_erasure(self, customer_id: str, now: datetime) -> None:
        self.erasures.update_one(
            {"_id": person_hash(customer_id)},
            {"$setOnInsert": {"requested_at": now, "confirmations": {}}},
            upsert=True,
        )

    def confirm_erasure(
        self, customer_id: str, service: str, removed: dict[str, int], at: datetime
    ) -> None:
        self.erasures.update_one(
            {"_id": person_hash(customer_id)},
            {"$set": {f"confirmations.{service}": {"at": at, "removed": removed}}},
            upsert=True,
        )

    def erasure_of(self, customer_id: str) -> Doc | None:
        return self.erasures.find_one({"_id": person_hash(customer_id)})
