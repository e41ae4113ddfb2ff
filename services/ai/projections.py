"""Stream handlers that build the AI read models. Each takes a batch of one event type
and writes in bulk; applying a batch twice leaves the same state."""

from __future__ import annotations

from typing import Any

from libs.common.events import (
    AudienceResolved,
    CampaignAutoPaused,
    CampaignCancelled,
    CampaignCompleted,
    CampaignCreated,
    CampaignPaused,
    CampaignResumed,
    CampaignTagged,
    CustomersUpserted,
    MessagesCancelled,
    MessagesFailed,
    MessagesSent,
    OrdersRecorded,
    ReceiptsReceived,
    SegmentDeleted,
    SegmentSaved,
)
from libs.common.logging import get_logger
from libs.common.streams.producer import StreamProducer
from services.ai.store import AiStore
from services.ai.tagging import tag_campaign

log = get_logger(__name__)


# -- ingest ------------------------------------------------------------------------------
def customers_upserted(events: list[CustomersUpserted], store: AiStore) -> None:
    store.append_customers([(e.entry_id, e.customers) for e in events])


def orders_recorded(events: list[OrdersRecorded], store: AiStore) -> None:
    store.record_orders([o for e in events for o in e.orders])


# -- receipt ---------------------------------------------------------------------------
def messages_sent(events: list[MessagesSent], store: AiStore) -> None:
    store.append_sent([(e.entry_id, e.messages) for e in events])


def receipts_received(events: list[ReceiptsReceived], store: AiStore) -> None:
    store.append_receipts([(e.entry_id, e.receipts) for e in events])


def messages_failed(events: list[MessagesFailed], store: AiStore) -> None:
    store.append_failed([(e.entry_id, e.messages) for e in events])


def messages_cancelled(events: list[MessagesCancelled], store: AiStore) -> None:
    store.append_cancelled([(e.entry_id, e.campaign_id, e.customer_ids, e.at) for e in events])


# -- campaign_events ---------------------------------------------------------------------
def campaigns_created(
    events: list[CampaignCreated], store: AiStore, producer: StreamProducer
) -> None:
    """Record the campaigns, then publish their tags (the campaign service stores them).
    A redelivery republishes the same tags, which the campaign service applies again."""
    updates: dict[str, dict[str, Any]] = {}
    tagged: list[CampaignTagged] = []
    for event in events:
        tags = tag_campaign(event.name, event.rules, event.message)
        all_tags = list(dict.fromkeys([*event.tags, *tags]))
        updates[event.campaign_id] = {
            "name": event.name,
            "rules": event.rules,
            "message": event.message,
            "tags": all_tags,
            "ai_tags": tags,
            "channel": event.channel,
            "created_at": event.created_at,
            "scheduled_at": event.scheduled_at,
        }
        if tags:
            tagged.append(CampaignTagged(campaign_id=event.campaign_id, tags=all_tags))
    store.update_campaigns(updates)
    producer.publish(tagged)
    log.info("ai.campaigns_tagged", campaigns=len(updates), published=len(tagged))


def audience_resolved(events: list[AudienceResolved], store: AiStore) -> None:
    store.update_campaigns(
        {e.campaign_id: {"audience_total": e.total, "resolved_at": e.resolved_at} for e in events}
    )


def campaigns_completed(events: list[CampaignCompleted], store: AiStore) -> None:
    store.update_campaigns(
        {
            e.campaign_id: {
                "status": "completed",
                "started_at": e.started_at,
                "completed_at": e.completed_at,
                "completed": {
                    "audience_size": e.audience_size,
                    "sent": e.sent,
                    "delivered": e.delivered,
                    "failed": e.failed,
                    "unknown": e.unknown,
                    "cancelled": e.cancelled,
                },
            }
            for e in events
        }
    )


def campaigns_paused(events: list[CampaignPaused], store: AiStore) -> None:
    store.update_campaigns({e.campaign_id: {"status": "paused"} for e in events})


def campaigns_auto_paused(events: list[CampaignAutoPaused], store: AiStore) -> None:
    store.update_campaigns(
        {
            e.campaign_id: {
                "status": "paused",
                "auto_paused_reason": f"{e.reason} (failure rate {e.failure_rate:.0%})",
            }
            for e in events
        }
    )


def campaigns_resumed(events: list[CampaignResumed], store: AiStore) -> None:
    store.update_campaigns({e.campaign_id: {"status": "running"} for e in events})


def campaigns_cancelled(events: list[CampaignCancelled], store: AiStore) -> None:
    store.update_campaigns({e.campaign_id: {"status": "cancelled"} for e in events})


def campaigns_tagged(events: list[CampaignTagged], store: AiStore) -> None:
    store.update_campaigns({e.campaign_id: {"tags": list(e.tags)} for e in events})


def segments_saved(events: list[SegmentSaved], store: AiStore) -> None:
    store.save_segments(
        {
            e.segment_id: {"name": e.name, "rules": e.rules, "description": e.description}
            for e in events
        }
    )


def segments_deleted(events: list[SegmentDeleted], store: AiStore) -> None:
    store.delete_segments([e.segment_id for e in events])
