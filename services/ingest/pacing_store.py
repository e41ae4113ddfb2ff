"""Ingest's copy of delivery's pacing (stream ``pacing``), for the audience preview.

- ``pacing_policy``: one document (``_id`` = ``policy``): quiet hours, frequency cap,
  workspace zone and ``changed_ms`` (an older announcement never replaces a newer one);
- ``capped_customers``: ``_id`` = ``<channel>:<customer id>``, ``until_ms``: the customer
  is at their frequency cap on that channel until then (``$max``: a redelivered or late
  announcement never moves it back).

Delivery's own state (``delivery_settings``, ``delivery:freq:*``) is never read here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import UpdateOne
from pymongo.database import Database

from libs.common.sendwindow import FrequencyCap, QuietHours

Doc = dict[str, Any]
POLICY = "pacing_policy"
CAPPED = "capped_customers"


@dataclass(frozen=True)
class PacingPolicy:
    quiet: QuietHours | None
    cap: FrequencyCap | None
    timezone: str  # the workspace zone

    @classmethod
    def from_doc(cls, doc: Doc) -> PacingPolicy:
        quiet, cap = doc.get("quiet_hours"), doc.get("frequency_cap")
        return cls(
            QuietHours.parse(quiet["start"], quiet["end"]) if quiet else None,
            FrequencyCap(cap["messages"], cap["per_days"]) if cap else None,
            str(doc.get("timezone") or "UTC"),
        )


class PacingStore:
    def __init__(self, db: Database[Doc]) -> None:
        self.db = db

    def save_policy(self, doc: Doc) -> bool:
        """Keep ``doc`` (with ``changed_ms``) unless a newer one is kept; True if kept."""
        current = self.db[POLICY].find_one({"_id": "policy"})
        if current is not None and int(current.get("changed_ms", 0)) > doc["changed_ms"]:
            return False
        self.db[POLICY].replace_one({"_id": "policy"}, {**doc, "_id": "policy"}, upsert=True)
        return True

    def policy(self) -> PacingPolicy | None:
        doc = self.db[POLICY].find_one({"_id": "policy"})
        return PacingPolicy.from_doc(doc) if doc else None

    def record_caps(self, channel: str, capped: Sequence[tuple[str, int]]) -> None:
        """(customer id, capped until in epoch ms) on ``channel``."""
        if capped:
            self.db[CAPPED].bulk_write(
                [
                    UpdateOne(
                        {"_id": f"{channel}:{cid}"},
                        {
                            "$max": {"until_ms": until},
                            "$set": {"customer_id": cid, "channel": channel},
                        },
                        upsert=True,
                    )
                    for cid, until in capped
                ],
                ordered=False,
            )

    def capped_after(self, moment_ms: int, channel: str | None = None) -> Iterator[Doc]:
        """Caps still holding after ``moment_ms`` (of one channel, or all)."""
        query: Doc = {"until_ms": {"$gt": moment_ms}}
        if channel is not None:
            query["channel"] = channel
        return iter(self.db[CAPPED].find(query, {"customer_id": 1, "channel": 1, "until_ms": 1}))

    def prune(self, before_ms: int) -> int:
        """Forget caps that ended before ``before_ms``."""
        return self.db[CAPPED].delete_many({"until_ms": {"$lt": before_ms}}).deleted_count

    def forget_customer(self, customer_id: str) -> int:
        return self.db[CAPPED].delete_many({"customer_id": customer_id}).deleted_count
