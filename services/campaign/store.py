"""The only module that touches MongoDB: database ``<prefix>campaign``.

Collections: ``campaigns`` (with the counters), ``segments``, ``campaign_stats``
(timeline and failure reasons per campaign). Nothing here is written per message: the
per-message states live in Redis (``tally``). Documents never hold null or empty lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo import DESCENDING, MongoClient, ReturnDocument, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database

from libs.common.mongo import IndexSpec, count_matching, ensure_indexes
from services.campaign import stats
from services.campaign.clock import to_ms
from services.campaign.lifecycle import ACTIVE

Doc = dict[str, Any]

INDEXES = (
    IndexSpec("campaigns", [("created_ms", DESCENDING)], name="created_desc"),
    IndexSpec("campaigns", [("status", 1), ("scheduled_ms", 1)], name="status_scheduled"),
    IndexSpec("segments", [("created_at", DESCENDING)], name="created_desc"),
)


class CampaignStore:
    def __init__(self, client: MongoClient[Doc], database: str) -> None:
        self.db: Database[Doc] = client[database]
        self.campaigns: Collection[Doc] = self.db["campaigns"]
        self.segments: Collection[Doc] = self.db["segments"]
        self.stats: Collection[Doc] = self.db["campaign_stats"]

    def ensure_indexes(self) -> None:
        ensure_indexes(self.db, INDEXES)

    # -- campaigns -----------------------------------------------------------------
    def insert_campaign(self, doc: Doc) -> None:
        self.campaigns.insert_one(doc)

    def get_campaign(self, campaign_id: str) -> Doc | None:
        return self.campaigns.find_one({"_id": campaign_id})

    def list_campaigns(
        self, status: str | None, skip: int, limit: int, search: str | None = None
    ) -> tuple[list[Doc], int]:
        query: Doc = {"status": status} if status else {}
        if search:
            query["name"] = {"$regex": re.escape(search), "$options": "i"}
        docs = list(
            self.campaigns.find(query).sort([("created_ms", DESCENDING)]).skip(skip).limit(limit)
        )
        return docs, count_matching(self.campaigns, query)

    def transition(
        self,
        campaign_id: str,
        from_statuses: Sequence[str],
        set_fields: Doc,
        *,
        unset: Sequence[str] = (),
        extra: Doc | None = None,
    ) -> Doc | None:
        """Move a campaign only if it is still in one of ``from_statuses`` (atomic)."""
        update: Doc = {"$set": set_fields}
        if unset:
            update["$unset"] = dict.fromkeys(unset, "")
        return self.campaigns.find_one_and_update(
            {"_id": campaign_id, "status": {"$in": list(from_statuses)}, **(extra or {})},
            update,
            return_document=ReturnDocument.AFTER,
        )

    def claim_due(self, now: datetime) -> Doc | None:
        """Take one due scheduled campaign; two replicas never take the same one."""
        return self.campaigns.find_one_and_update(
            {"status": "scheduled", "scheduled_ms": {"$lte": to_ms(now)}},
            {"$set": {"status": "launching", "launched_ms": to_ms(now)}},
            return_document=ReturnDocument.AFTER,
        )

    def unconfirmed_launches(self, launched_before: datetime) -> list[Doc]:
        return list(
            self.campaigns.find(
                {
                    "status": {"$in": list(ACTIVE)},
                    "launch_published": {"$exists": False},
                    "launched_ms": {"$lte": to_ms(launched_before)},
                }
            )
        )

    def defer_until(self, campaign_id: str, until_ms: int) -> None:
        """``deferred_until_ms`` only ever moves later (redelivery changes nothing)."""
        self.campaigns.update_one(
            {"_id": campaign_id, "deferred_until_ms": {"$exists": False}},
            {"$set": {"deferred_until_ms": until_ms}},
        )
        self.campaigns.update_one(
            {"_id": campaign_id, "deferred_until_ms": {"$lt": until_ms}},
            {"$set": {"deferred_until_ms": until_ms}},
        )

    def claim_replay(self, campaign_id: str, now: datetime, every_s: float) -> bool:
        """At most one replay per campaign per ``every_s``, whichever replica asks
        (two conditional updates: the embedded server mishandles ``_id`` beside a
        top-level ``$or`` in find-and-modify)."""
        now_ms = to_ms(now)
        update = {"$set": {"replayed_ms": now_ms}, "$inc": {"replays": 1}}
        first = self.campaigns.update_one(
            {"_id": campaign_id, "replayed_ms": {"$exists": False}}, update
        )
        if first.modified_count:
            return True
        again = self.campaigns.update_one(
            {"_id": campaign_id, "replayed_ms": {"$lte": now_ms - int(every_s * 1000)}}, update
        )
        return bool(again.modified_count)

    def unannounced(self, created_before: datetime) -> list[Doc]:
        return list(
            self.campaigns.find(
                {
                    "created_published": {"$exists": False},
                    "created_ms": {"$lte": to_ms(created_before)},
                }
            )
        )

    def mark(self, campaign_id: str, *flags: str) -> None:
        self.campaigns.update_one({"_id": campaign_id}, {"$set": dict.fromkeys(flags, True)})

    def record_audiences(self, audiences: Sequence[tuple[str, int, datetime]]) -> None:
        """First resolution wins: launching -> running; other statuses keep theirs."""
        ops: list[UpdateOne] = []
        for campaign_id, total, at in audiences:
            fields = {"audience_size": total, "started_ms": to_ms(at), "timeout_from_ms": to_ms(at)}
            unresolved = {"_id": campaign_id, "audience_size": {"$exists": False}}
            ops.append(
                UpdateOne(
                    {**unresolved, "status": "launching"},
                    {"$set": {**fields, "status": "running"}},
                )
            )
            ops.append(UpdateOne(unresolved, {"$set": fields}))
        if ops:
            self.campaigns.bulk_write(ops, ordered=True)

    def auto_pause(self, pauses: Sequence[tuple[str, str]]) -> list[str]:
        paused: list[str] = []
        for campaign_id, reason in pauses:
            doc = self.transition(
                campaign_id,
                ("launching", "running"),
                {"status": "paused", "status_reason": reason, "paused_by": "delivery"},
            )
            if doc is not None:
                paused.append(campaign_id)
        return paused

    def set_ai_tags(self, tags: dict[str, list[str]]) -> None:
        ops = [
            UpdateOne({"_id": cid}, {"$set": {"ai_tags": t}} if t else {"$unset": {"ai_tags": ""}})
            for cid, t in tags.items()
        ]
        if ops:
            self.campaigns.bulk_write(ops, ordered=False)

    def campaigns_by_ids(self, ids: Iterable[str]) -> list[Doc]:
        return list(self.campaigns.find({"_id": {"$in": list(ids)}}))

    def active_campaigns(self) -> list[Doc]:
        return list(self.campaigns.find({"status": {"$in": list(ACTIVE)}}))

    def completed_unannounced(self) -> list[Doc]:
        return list(
            self.campaigns.find({"status": "completed", "completion_published": {"$exists": False}})
        )

    def save_figures(
        self, campaign_id: str, figures: stats.Figures, counted_at: datetime
    ) -> Doc | None:
        """Store recomputed counters unless a newer count was stored meanwhile; frozen
        once completed."""
        counted = to_ms(counted_at)
        # One explicit $and: nx-27017's find_one_and_update drops the _id condition of a
        # filter that has a top-level $or beside it, and updated another campaign (a
        # receipt for a completed campaign gave a scheduled one its figures).
        doc = self.campaigns.find_one_and_update(
            {
                "$and": [
                    {"_id": campaign_id},
                    {"status": {"$ne": "completed"}},
                    {"$or": [{"counted_ms": {"$lt": counted}}, {"counted_ms": {"$exists": False}}]},
                ]
            },
            {"$set": {"counts": stats.counters_doc(figures), "counted_ms": counted}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            # update_one, not replace_one: the embedded server's replace-upsert loses _id.
            fields = stats.stats_doc(figures)
            update: Doc = {"$set": {**fields, "updated_ms": counted}}
            gone = [k for k in ("timeline", "failure_reasons") if k not in fields]
            if gone:
                update["$unset"] = dict.fromkeys(gone, "")
            self.stats.update_one({"_id": campaign_id}, update, upsert=True)
        return doc

    # -- test, then send the winner (services.campaign.winner) -------------------------
    def awaiting_winner(self) -> list[Doc]:
        """Running or paused campaigns in a test phase with no decision yet."""
        return list(
            self.campaigns.find(
                {
                    "status": {"$in": ["running", "paused"]},
                    "experiment.winner": {"$exists": True},
                    "experiment.decision": {"$exists": False},
                }
            )
        )

    def record_decision(self, campaign_id: str, decision: Doc, now_ms: int) -> Doc | None:
        """Store the decision unless one is stored already (two replicas decide once);
        the waiting customers' completion timeout starts now."""
        return self.campaigns.find_one_and_update(
            {"_id": campaign_id, "experiment.decision": {"$exists": False}},
            {"$set": {"experiment.decision": decision, "timeout_from_ms": now_ms}},
            return_document=ReturnDocument.AFTER,
        )

    def decided_unpublished(self) -> list[Doc]:
        return list(
            self.campaigns.find(
                {
                    "experiment.decision": {"$exists": True},
                    "decision_published": {"$exists": False},
                }
            )
        )

    def get_stats(self, campaign_id: str) -> Doc | None:
        return self.stats.find_one({"_id": campaign_id})

    # -- segments ------------------------------------------------------------------
    def insert_segment(self, doc: Doc) -> None:
        self.segments.insert_one(doc)

    def get_segment(self, segment_id: str) -> Doc | None:
        return self.segments.find_one({"_id": segment_id})

    def segment_named(self, name: str) -> Doc | None:
        """The segment with this name, compared without case (few segments: a scan is cheap)."""
        wanted = name.casefold()
        for doc in self.segments.find({}, {"name": 1}):
            if str(doc.get("name", "")).casefold() == wanted:
                return doc
        return None

    def update_segment(
        self, segment_id: str, name: str, rules: Doc, description: str | None
    ) -> Doc | None:
        fields: Doc = {"name": name, "rules": rules}
        change: Doc = {"$set": fields}
        if description is None:
            change["$unset"] = {"description": ""}
        else:
            fields["description"] = description
        return self.segments.find_one_and_update(
            {"_id": segment_id}, change, return_document=ReturnDocument.AFTER
        )

    def list_segments(self) -> list[Doc]:
        return list(self.segments.find().sort([("created_at", DESCENDING)]).limit(500))

    def delete_segment(self, segment_id: str) -> bool:
        return self.segments.delete_one({"_id": segment_id}).deleted_count == 1
