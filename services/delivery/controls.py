"""Group ``delivery`` on ``campaign_events``: pause, resume and cancel.

Delivery keeps its own read model of each campaign's state (``campaign_controls``).
Resume sends the campaign's ``held`` rows in batches; cancel marks them ``cancelled``
(announced first, then written, so a crash in between only repeats an announcement).
A Redis lock per campaign keeps two sweeps of the same held rows apart; the periodic
sweep (:func:`sweep_held`) catches rows held by a send worker that read the state just
before a resume.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from libs.common.background import run_every
from libs.common.clock import now_utc
from libs.common.events import (
    CampaignAutoPaused,
    CampaignCancelled,
    CampaignCompleted,
    CampaignPaused,
    CampaignResumed,
    MessagesCancelled,
)
from libs.common.logging import get_logger
from services.delivery.compose import Outgoing, batch_key
from services.delivery.consent import suppressed_messages
from services.delivery.context import Deps
from services.delivery.dispatch import (
    ACTIVE,
    PAUSED,
    BatchResult,
    record_finished,
    send_batch,
    set_state,
    without_content,
)
from services.delivery.models import CANCELLED, SUPPRESSED

log = get_logger(__name__)

LOCK_TTL_S = 300
CANCEL_BATCH = 1000


def on_paused(events: Sequence[CampaignPaused | CampaignAutoPaused], deps: Deps) -> None:
    now = now_utc()
    for event in events:
        set_state(deps, event.campaign_id, PAUSED, event.reason, now)


def on_resumed(events: list[CampaignResumed], deps: Deps) -> None:
    for event in events:
        if set_state(deps, event.campaign_id, ACTIVE, "resumed", now_utc()):
            deps.autopause.reset(event.campaign_id)
            _release(event.campaign_id, deps)


def on_cancelled(events: list[CampaignCancelled], deps: Deps) -> None:
    for event in events:
        set_state(deps, event.campaign_id, CANCELLED, event.reason, now_utc())
        _release(event.campaign_id, deps)  # with the campaign cancelled: cancels them


def on_completed(events: list[CampaignCompleted], deps: Deps) -> None:
    for event in events:
        deps.ledger.ended(event.campaign_id)


def _release(campaign_id: str, deps: Deps) -> None:
    if deps.release_held is not None:
        deps.release_held(campaign_id)
    else:
        send_held(campaign_id, deps)


def drop_suppressed(
    campaign_id: str, batch: list[Outgoing], now: datetime, deps: Deps
) -> list[Outgoing]:
    """Held messages whose address was suppressed meanwhile end ``suppressed``."""
    blocked = suppressed_messages(deps, batch)
    if not blocked:
        return batch
    fields = {"status": SUPPRESSED, "reason": "suppressed", "updated_at": now}
    deps.store.update_held([(mid, fields) for mid in blocked])
    gone = [m.customer_id for m in batch if m.message_id in blocked]
    deps.publish(
        [MessagesCancelled(campaign_id=campaign_id, customer_ids=gone, at=now, reason=SUPPRESSED)]
    )
    return [m for m in batch if m.message_id not in blocked]


def send_held(campaign_id: str, deps: Deps) -> None:
    """Send (or, if cancelled, cancel) the held rows of one campaign, batch by batch."""
    lock = deps.redis.lock(f"delivery:held:{campaign_id}", timeout=LOCK_TTL_S)
    if not lock.acquire(blocking=False):
        log.info("delivery.held_sweep_busy", campaign_id=campaign_id)
        return
    try:
        while True:
            control = deps.store.get_controls([campaign_id]).get(campaign_id, {})
            state = deps.live.state(campaign_id) or control.get("state", "")
            if state == PAUSED:
                return
            if state == CANCELLED:
                _cancel_held(campaign_id, str(control.get("reason", "campaign cancelled")), deps)
                return
            if not _send_held_batch(campaign_id, deps):
                return
            lock.extend(LOCK_TTL_S, replace_ttl=True)
    finally:
        lock.release()


def _send_held_batch(campaign_id: str, deps: Deps) -> bool:
    """Send the next batch; False when nothing is left, the vendor is out of reach or
    the campaign auto-paused."""
    now = now_utc()
    rows = deps.store.held_batch(campaign_id, deps.settings.vendor_batch_size)
    if not rows:
        return False
    batch = [
        Outgoing(
            r["_id"],
            campaign_id,
            r["customer_id"],
            r["to"],
            r["channel"],
            r["body"],
            tuple((r.get("headers") or {}).items()),
        )
        for r in rows
    ]
    batch = drop_suppressed(campaign_id, batch, now, deps)
    if not batch:
        return True
    key = batch_key("held", campaign_id, "resume", [m.message_id for m in batch])

    def proceed() -> str:
        """Paused or cancelled since the loop looked: the batch stays held."""
        deps.live.begin(campaign_id, len(batch))
        state = deps.live.state(campaign_id)
        if state in (PAUSED, CANCELLED):
            deps.live.end(campaign_id, len(batch))
            return state
        return ""

    result = send_batch(deps, key, batch, now, last_try=False, proceed=proceed)
    if result.stopped:
        return True  # the loop reads the state again: it returns, or cancels the rest
    try:
        return _record_held_batch(campaign_id, batch, result, deps, now)
    finally:
        deps.live.end(campaign_id, len(batch))


def _record_held_batch(
    campaign_id: str, batch: list[Outgoing], result: BatchResult, deps: Deps, now: datetime
) -> bool:
    if result.unavailable:
        # Still held, nothing written: the periodic sweep tries again with the same key.
        log.warning("delivery.held_vendor_unavailable", campaign_id=campaign_id)
        return False
    deps.store.update_held([(m.message_id, result.rows[m.message_id]) for m in batch])
    deps.publish_outcomes(without_content(result.sent), result.failed)
    log.info(
        "delivery.held_sent",
        campaign_id=campaign_id,
        sent=len(result.sent),
        failed=len(result.failed),
    )
    return not record_finished(deps, campaign_id, [True] * len(result.failed), now)


def _cancel_held(campaign_id: str, reason: str, deps: Deps) -> None:
    while True:
        rows = deps.store.held_batch(campaign_id, CANCEL_BATCH)
        if not rows:
            return
        now = now_utc()
        customers = [r["customer_id"] for r in rows]
        deps.publish([MessagesCancelled(campaign_id=campaign_id, customer_ids=customers, at=now)])
        deps.store.cancel_held([r["_id"] for r in rows], reason, now)


def sweep_held(deps: Deps) -> None:
    """Held rows of campaigns that are not paused any more: send or cancel them."""
    campaigns = deps.store.campaigns_with_held()
    controls = deps.store.get_controls(campaigns)
    for campaign_id in campaigns:
        if controls.get(campaign_id, {}).get("state") != PAUSED:
            send_held(campaign_id, deps)


def run_sweeper(deps: Deps, stop: threading.Event) -> None:
    interval_s = deps.settings.held_sweep_interval_s
    if not stop.wait(interval_s):  # the first sweep after one interval, as before
        run_every(lambda: sweep_held(deps), stop, interval_s, failure_event="delivery.sweep_failed")


class HeldReleaser:
    """Sends (or cancels) a resumed campaign's held rows on a thread of its own, so the
    control worker goes on reading ``campaign_events``: a pause that follows a resume is
    applied while the held rows are going out, and stops them at the next batch."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def __call__(self, campaign_id: str) -> None:
        thread = threading.Thread(
            target=self._run, args=(campaign_id,), name=f"held-{campaign_id}", daemon=True
        )
        thread.start()

    def _run(self, campaign_id: str) -> None:
        try:
            send_held(campaign_id, self.deps)
        except Exception:
            # the held rows stay held: the periodic sweep tries again
            log.exception("delivery.held_release_failed", campaign_id=campaign_id)
