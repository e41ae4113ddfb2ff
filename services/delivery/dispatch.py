"""Shared steps of sending: one vendor batch (rate-limited, retried) and auto-pause."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from libs.common.events import CampaignAutoPaused, FailedMessage, SentMessage
from libs.common.logging import get_logger
from services.delivery.compose import Outgoing
from services.delivery.context import Deps
from services.delivery.metrics import AUTO_PAUSES
from services.delivery.models import FAILED, SENT
from services.delivery.vendor import VendorError, VendorUnavailable

log = get_logger(__name__)

PAUSED = "paused"
ACTIVE = "active"


@dataclass
class BatchResult:
    """Row fields per message id, and the events announcing them."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: list[SentMessage] = field(default_factory=list)
    failed: list[FailedMessage] = field(default_factory=list)
    unavailable: str = ""  # set when the vendor stayed unreachable (not a refusal)
    stopped: str = ""  # the campaign's state when ``proceed`` said no: nothing was sent


def send_batch(
    deps: Deps,
    key: str,
    batch: Sequence[Outgoing],
    now: datetime,
    *,
    last_try: bool = True,
    proceed: Callable[[], str] | None = None,
) -> BatchResult:
    """Send one batch to the vendor; every message ends ``sent`` or ``failed``.
    ``last_try`` probes the vendor even while its circuit breaker is open. ``proceed``,
    asked once the rate limiter let the batch go (the wait can be a second), returns ""
    to send, or the campaign's state (paused, cancelled) to send nothing."""
    result = BatchResult()
    if not batch:
        return result
    campaign_id = batch[0].campaign_id
    deps.limiter.acquire(campaign_id, len(batch))
    if proceed is not None and (stopped := proceed()):
        result.stopped = stopped
        return result
    customers = [m.customer_id for m in batch]
    deps.ledger.handing(campaign_id, customers)  # what receipts may be accepted for
    try:
        vendor_ids = deps.vendor.send(key, [m.vendor_payload() for m in batch], probe=last_try)
    except VendorError as exc:
        deps.ledger.failed(campaign_id, customers)
        reason = exc.reason
        if isinstance(exc, VendorUnavailable):
            result.unavailable = str(exc)
        log.warning(
            "delivery.batch_failed",
            campaign_id=campaign_id,
            size=len(batch),
            reason=reason,
            error=str(exc),
        )
        for m in batch:
            result.rows[m.message_id] = {"status": FAILED, "reason": reason, "updated_at": now}
            result.failed.append(
                FailedMessage(
                    message_id=m.message_id,
                    campaign_id=campaign_id,
                    customer_id=m.customer_id,
                    reason=reason,
                    at=now,
                )
            )
        return result
    deps.ledger.record(campaign_id, {m.customer_id: vendor_ids[m.message_id] for m in batch})
    for m in batch:
        vid = vendor_ids[m.message_id]
        result.rows[m.message_id] = {
            "status": SENT,
            "vendor_message_id": vid,
            "sent_at": now,
            "updated_at": now,
        }
        result.sent.append(
            SentMessage(
                message_id=m.message_id,
                campaign_id=campaign_id,
                customer_id=m.customer_id,
                vendor_message_id=vid,
                at=now,
                channel=m.channel,
                to=m.to,
                body=m.body,
                headers=dict(m.headers) or None,
            )
        )
    return result


def without_content(sent: Sequence[SentMessage]) -> list[SentMessage]:
    """Announcements of messages whose rows exist already: nothing for the receipt
    worker to write."""
    return [
        m.model_copy(update={"channel": None, "to": None, "body": None, "headers": None})
        for m in sent
    ]


def record_finished(deps: Deps, campaign_id: str, failed: Sequence[bool], now: datetime) -> bool:
    """Feed finished sends to the auto-pause window; pause the campaign when it trips.
    Returns True when this call paused it."""
    rate = deps.autopause.record(campaign_id, failed)
    if rate is None:
        return False
    reason = deps.autopause.reason(rate)
    set_state(deps, campaign_id, PAUSED, reason, now)
    deps.publish([CampaignAutoPaused(campaign_id=campaign_id, reason=reason, failure_rate=rate)])
    AUTO_PAUSES.inc()
    log.warning("delivery.auto_paused", campaign_id=campaign_id, failure_rate=rate)
    return True


def set_state(deps: Deps, campaign_id: str, state: str, reason: str, now: datetime) -> bool:
    """Record a campaign's control state: live first (the send paths read it before
    every vendor batch), then in the database. A cancelled campaign stays cancelled;
    returns False when it is."""
    if not deps.live.set_state(campaign_id, state):
        return False
    return deps.store.set_control(campaign_id, state, reason, now)
