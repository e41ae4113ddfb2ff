"""Group ``journeys`` on stream ``receipt``: journey messages that failed (refused by
the vendor, undeliverable, or a failed receipt) are marked on the customer's state,
so the journey's stats count them per step. Campaign messages are left alone."""

from __future__ import annotations

from libs.common.events import MessagesFailed, ReceiptsReceived
from services.campaign.journeys.runner import parse_message_campaign_id
from services.campaign.journeys.store import JourneyStore, state_id


def _by_step(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for campaign_id, customer_id in pairs:
        parsed = parse_message_campaign_id(campaign_id)
        if parsed is not None:
            journey_id, step, _ = parsed
            grouped.setdefault((journey_id, step), []).append(state_id(journey_id, customer_id))
    return grouped


def messages_failed(events: list[MessagesFailed], store: JourneyStore) -> None:
    pairs = [(m.campaign_id, m.customer_id) for e in events for m in e.messages]
    store.record_outcomes(_by_step(pairs), "failed")


def receipts_received(events: list[ReceiptsReceived], store: JourneyStore) -> None:
    pairs = [
        (r.campaign_id, r.customer_id) for e in events for r in e.receipts if r.status == "FAILED"
    ]
    store.record_outcomes(_by_step(pairs), "failed")
