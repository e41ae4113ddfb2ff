"""What the campaign API does: create and launch campaigns, move them through their
states, keep saved segments. Raises AppErrors; the routes stay thin."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from redis import RedisError

from libs.common.errors import Conflict, NotFound, ValidationFailed
from libs.common.events import (
    CampaignCancelled,
    CampaignPaused,
    CampaignResumed,
    Event,
    SegmentDeleted,
    SegmentSaved,
)
from libs.common.logging import get_logger
from libs.common.rules import parse_rules, to_json
from libs.common.streams import StreamProducer
from libs.common.templates import parse_template
from services.campaign import announce, experiments, lifecycle, stats
from services.campaign.audience import AudienceCounter
from services.campaign.clock import to_ms
from services.campaign.models import CampaignCreate, SegmentCreate
from services.campaign.store import CampaignStore

Doc = dict[str, Any]

log = get_logger(__name__)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def _compact(doc: Doc) -> Doc:
    """Documents never hold null or empty lists: absent means unknown."""
    return {k: v for k, v in doc.items() if v is not None and v != []}


class CampaignService:
    def __init__(
        self,
        store: CampaignStore,
        producer: StreamProducer,
        audience: AudienceCounter | None = None,
        *,
        max_schedule_ahead: timedelta = timedelta(days=365),
    ) -> None:
        self.store = store
        self.producer = producer
        self.audience = audience
        self.max_schedule_ahead = max_schedule_ahead

    # -- campaigns -----------------------------------------------------------------
    def create(self, body: CampaignCreate, created_by: str | None, now: datetime) -> Doc:
        rules, segment_id = self._audience(body)
        experiment = experiments.build(body.variants, body.holdout_share, body.winner)
        if experiment is not None:
            message = experiment["variants"][0]["message"]
            fields = experiments.all_fields([v["message"] for v in experiment["variants"]])
        elif body.message is None:
            raise ValidationFailed(
                "message is required (or give variants)",
                [{"field": "message", "message": "a message template, or variants"}],
            )
        else:
            message, fields = body.message, parse_template(body.message).fields
        scheduled_at = self._schedule(body.scheduled_at, now)
        scheduled = scheduled_at is not None
        if not scheduled and self.audience is not None and self.audience.count(rules) == 0:
            raise ValidationFailed(
                "no customer matches this audience: the campaign would reach nobody",
                [{"field": "segmentRules", "message": "the audience is empty"}],
                code="empty_audience",
            )
        doc = _compact(
            {
                "_id": new_id("cmp"),
                "name": body.name,
                "rules": rules,
                "segment_id": segment_id,
                "message": message,
                "fields": fields,
                "experiment": experiment,
                "attribution_days": body.attribution_days,
                "local_time": body.send_at_local_time,
                "channel": body.channel,
                "tags": body.tags,
                "status": "scheduled" if scheduled else "launching",
                "scheduled_ms": to_ms(scheduled_at) if scheduled_at else None,
                "launched_ms": None if scheduled else to_ms(now),
                "created_ms": to_ms(now),
                "created_by": created_by,
                "counts": dict.fromkeys(stats.RANKS, 0),
            }
        )
        self.store.insert_campaign(doc)
        # Created first so read models know the campaign before anything refers to it.
        events: list[Event] = [announce.created(doc)]
        flags = ["created_published"]
        if not scheduled:
            events.append(announce.launched(doc))
            flags.append("launch_published")
        try:
            self.producer.publish(events)
        except RedisError as exc:
            # Stored but not announced: the worker's scheduler announces it later.
            log.warning("campaign.announce_deferred", campaign_id=doc["_id"], error=str(exc))
            return doc
        self.store.mark(doc["_id"], *flags)
        return doc

    def _schedule(self, scheduled_at: datetime | None, now: datetime) -> datetime | None:
        """A future time within ``max_schedule_ahead``; None: send now."""
        if scheduled_at is None:
            return None
        if scheduled_at <= now:
            raise ValidationFailed(
                "scheduledAt is in the past; leave it out to send now",
                [{"field": "scheduledAt", "message": "must be in the future"}],
                code="schedule_in_past",
            )
        if scheduled_at > now + self.max_schedule_ahead:
            days = self.max_schedule_ahead.days
            raise ValidationFailed(
                f"scheduledAt is more than {days} days ahead",
                [{"field": "scheduledAt", "message": f"at most {days} days from now"}],
                code="schedule_too_far",
            )
        return scheduled_at

    def _audience(self, body: CampaignCreate) -> tuple[Doc, str | None]:
        if (body.segment_rules is None) == (body.segment_id is None):
            raise ValidationFailed(
                "give exactly one of segmentRules or segmentId",
                [{"field": "segmentRules", "message": "give segmentRules or segmentId"}],
            )
        if body.segment_id is not None:
            segment = self.store.get_segment(body.segment_id)
            if segment is None:
                raise ValidationFailed(
                    f"segment {body.segment_id} does not exist",
                    [{"field": "segmentId", "message": "no saved segment with this id"}],
                )
            return segment["rules"], body.segment_id
        return to_json(parse_rules(body.segment_rules)), None

    def get(self, campaign_id: str) -> Doc:
        doc = self.store.get_campaign(campaign_id)
        if doc is None:
            raise NotFound(f"campaign {campaign_id} not found")
        return doc

    def act(self, campaign_id: str, action: str, now: datetime) -> Doc:
        """pause | resume | cancel, atomically from an allowed state, or 409."""
        current = self.get(campaign_id)
        rule = lifecycle.TRANSITIONS[action]
        event: Event
        if action == "resume":
            doc = self._resume(campaign_id, now)
            event = CampaignResumed(campaign_id=campaign_id)
        elif action == "pause":
            doc = self.store.transition(
                campaign_id,
                rule.allowed_from,
                {"status": "paused", "status_reason": "paused by user", "paused_by": "user"},
            )
            event = CampaignPaused(campaign_id=campaign_id)
        else:
            doc = self.store.transition(
                campaign_id,
                rule.allowed_from,
                {
                    "status": "cancelled",
                    "status_reason": "cancelled by user",
                    "ended_ms": to_ms(now),
                },
            )
            event = CampaignCancelled(campaign_id=campaign_id)
        if doc is None:
            latest = self.store.get_campaign(campaign_id) or current
            raise Conflict(
                lifecycle.refusal(action, latest["status"]),
                {"status": latest["status"], "action": action},
            )
        self.producer.publish([event])
        return doc

    def _resume(self, campaign_id: str, now: datetime) -> Doc | None:
        # Two conditional updates rather than read-then-write: an audience resolved in
        # between can never leave a resumed campaign stuck in ``launching``.
        unset = ("status_reason", "paused_by")
        resolved = {"audience_size": {"$exists": True}}
        doc = self.store.transition(
            campaign_id,
            ("paused",),
            {"status": lifecycle.resumed_status(True), "timeout_from_ms": to_ms(now)},
            unset=unset,
            extra=resolved,
        )
        if doc is None:
            doc = self.store.transition(
                campaign_id,
                ("paused",),
                {"status": lifecycle.resumed_status(False)},
                unset=unset,
                extra={"audience_size": {"$exists": False}},
            )
        return doc

    # -- segments ------------------------------------------------------------------
    def save_segment(self, body: SegmentCreate, created_by: str | None, now: datetime) -> Doc:
        rules = to_json(parse_rules(body.rules))
        description = (body.description or "").strip() or None
        name = body.name.strip() or "segment"
        self._refuse_taken_name(name, None)
        doc = _compact(
            {
                "_id": new_id("seg"),
                "name": name,
                "rules": rules,
                "description": description,
                "created_at": now,
                "created_by": created_by,
            }
        )
        self.store.insert_segment(doc)
        self.producer.publish(
            [
                SegmentSaved(
                    segment_id=doc["_id"], name=doc["name"], rules=rules, description=description
                )
            ]
        )
        return doc

    def update_segment(self, segment_id: str, body: SegmentCreate) -> Doc:
        """Rename or edit a saved segment; campaigns already made from it keep their rules."""
        self.get_segment(segment_id)
        rules = to_json(parse_rules(body.rules))
        description = (body.description or "").strip() or None
        name = body.name.strip() or "segment"
        self._refuse_taken_name(name, segment_id)
        doc = self.store.update_segment(segment_id, name, rules, description)
        if doc is None:
            raise NotFound(f"segment {segment_id} not found")
        self.producer.publish(
            [SegmentSaved(segment_id=segment_id, name=name, rules=rules, description=description)]
        )
        return doc

    def _refuse_taken_name(self, name: str, own_id: str | None) -> None:
        """Two segments with one name look identical in every picker."""
        other = self.store.segment_named(name)
        if other is not None and other["_id"] != own_id:
            raise Conflict(
                f"a segment named {other['name']!r} already exists: choose another name",
                [{"field": "name", "message": "already used by another segment"}],
            )

    def get_segment(self, segment_id: str) -> Doc:
        doc = self.store.get_segment(segment_id)
        if doc is None:
            raise NotFound(f"segment {segment_id} not found")
        return doc

    def delete_segment(self, segment_id: str) -> None:
        if not self.store.delete_segment(segment_id):
            raise NotFound(f"segment {segment_id} not found")
        self.producer.publish([SegmentDeleted(segment_id=segment_id)])
