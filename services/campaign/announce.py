"""The stream entries the campaign service publishes, built from campaign documents."""

from __future__ import annotations

from typing import Any

from libs.common.events import CampaignCompleted, CampaignCreated, CampaignLaunched, LocalSend
from libs.common.templates import parse_template
from services.campaign import experiments, stats
from services.campaign.clock import from_ms, maybe_from_ms


def launched(doc: dict[str, Any], *, replay: bool = False) -> CampaignLaunched:
    return CampaignLaunched(
        replay=replay,
        campaign_id=doc["_id"],
        name=doc["name"],
        rules=doc["rules"],
        message=doc["message"],
        fields=doc.get("fields") or parse_template(doc["message"]).fields,
        channel=doc.get("channel"),
        experiment=experiments.to_event(doc["experiment"]) if "experiment" in doc else None,
        local_send=_local_send(doc),
    )


def _local_send(doc: dict[str, Any]) -> LocalSend | None:
    if not doc.get("local_time") or doc.get("launched_ms") is None:
        return None
    return LocalSend(at=doc["local_time"], after=from_ms(doc["launched_ms"]))


def created(doc: dict[str, Any]) -> CampaignCreated:
    return CampaignCreated(
        campaign_id=doc["_id"],
        name=doc["name"],
        rules=doc["rules"],
        message=doc["message"],
        tags=list(doc.get("tags", [])),
        channel=doc.get("channel"),
        created_at=from_ms(doc["created_ms"]),
        scheduled_at=maybe_from_ms(doc.get("scheduled_ms")),
    )


def completed(doc: dict[str, Any]) -> CampaignCompleted:
    figures = stats.summary(doc)
    return CampaignCompleted(
        campaign_id=doc["_id"],
        audience_size=int(doc.get("audience_size", 0)),
        sent=figures["sent"],
        delivered=figures["delivered"],
        failed=figures["failed"],
        unknown=figures["unknown"],
        cancelled=figures["cancelled"],
        started_at=maybe_from_ms(doc.get("started_ms")),
        completed_at=from_ms(doc["completed_ms"]),
    )
