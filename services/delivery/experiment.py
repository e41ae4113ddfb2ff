"""Campaigns with variants: each recipient's message, the holdout, and the customers
waiting for a test's winner.

The group of a recipient is the seeded hash of libs.common.assignment (the same answer
on every redelivery, resume and replica), so a chunk splits the same way every time:

- holdout: a ``holdout`` row (recorded, never sent), announced ``MessagesHeldOut``;
- in the test (or no test): their variant's message, rendered as any other message;
- not in the test, no winner yet: a ``waiting`` row holding the recipient's data. When
  the campaign service announces ``WinnerChosen``, ``release_waiting`` renders the
  winner for them and turns the rows ``held``; the resume path
  (services.delivery.controls.send_held) sends them, with its pause, cancel and
  out-of-reach handling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from libs.common.clock import now_utc
from libs.common.events import (
    FailedMessage,
    MessagesHeldOut,
    Recipient,
    SendRequested,
    WinnerChosen,
    message_id,
)
from libs.common.formatting import WorkspaceFormat
from libs.common.logging import get_logger
from services.delivery.compose import Outgoing, Undeliverable, UnsubscribeLink, compose
from services.delivery.context import Deps
from services.delivery.controls import send_held
from services.delivery.models import FAILED, HELD, HOLDOUT, WAITING

log = get_logger(__name__)

RELEASE_BATCH = 500


@dataclass
class ChunkPlan:
    outgoing: list[Outgoing] = field(default_factory=list)
    undeliverable: list[Undeliverable] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # holdout and waiting rows
    held_out: list[str] = field(default_factory=list)  # customer ids


def plan_chunk(
    event: SendRequested,
    recipients: Sequence[Recipient],
    fmt: WorkspaceFormat,
    now: datetime,
    unsubscribe: UnsubscribeLink | None = None,
) -> ChunkPlan:
    """The chunk's messages: every recipient's own variant (the event's one message when
    the campaign has no variants)."""
    cid = event.campaign_id
    experiment = event.experiment
    if experiment is None:
        outgoing, undeliverable = compose(
            cid, event.message, event.channel, recipients, fmt, unsubscribe
        )
        return ChunkPlan(outgoing, undeliverable)
    plan = ChunkPlan()
    by_variant: dict[str, list[Recipient]] = {}
    for recipient in recipients:
        assignment = experiment.assign(cid, recipient.customer_id)
        if assignment.held_out:
            plan.held_out.append(recipient.customer_id)
            plan.rows.append(_row(cid, recipient.customer_id, now, status=HOLDOUT))
            continue
        variant = assignment.group if assignment.in_test else experiment.send
        if variant is None:
            plan.rows.append(
                _row(
                    cid,
                    recipient.customer_id,
                    now,
                    status=WAITING,
                    recipient=recipient.model_dump(mode="json"),
                    requested_channel=event.channel,
                )
            )
            continue
        by_variant.setdefault(variant, []).append(recipient)
    order = {r.customer_id: i for i, r in enumerate(recipients)}
    for variant, members in by_variant.items():
        message = experiment.message_of(variant)
        outgoing, undeliverable = compose(cid, message, event.channel, members, fmt, unsubscribe)
        plan.outgoing += outgoing
        plan.undeliverable += undeliverable
    # recipient order, as without variants: a redelivered chunk forms the same batches
    plan.outgoing.sort(key=lambda m: order[m.customer_id])
    plan.undeliverable.sort(key=lambda m: order[m.customer_id])
    return plan


def _row(campaign_id: str, customer_id: str, now: datetime, **fields: Any) -> dict[str, Any]:
    row = {
        "_id": message_id(campaign_id, customer_id),
        "campaign_id": campaign_id,
        "customer_id": customer_id,
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    return {k: v for k, v in row.items() if v is not None}


def announce_held_out(campaign_id: str, customer_ids: list[str], deps: Deps) -> None:
    if customer_ids:
        deps.publish(
            [MessagesHeldOut(campaign_id=campaign_id, customer_ids=customer_ids, at=now_utc())]
        )


def held_out_again(docs: Sequence[dict[str, Any]]) -> list[str]:
    """Holdout customers among a redelivered chunk's rows (announced again)."""
    return [d["customer_id"] for d in docs if d.get("status") == HOLDOUT]


def release_waiting(event: WinnerChosen, deps: Deps) -> int:
    """Render the winner for every waiting row and make it ``held``; returns how many.
    Idempotent: only rows still waiting move."""
    cid = event.campaign_id
    fmt = deps.settings.workspace_format()
    released = 0
    while rows := deps.store.waiting_batch(cid, RELEASE_BATCH):
        now = now_utc()
        channel = rows[0].get("requested_channel")
        recipients = [Recipient.model_validate(r["recipient"]) for r in rows]
        outgoing, undeliverable = compose(cid, event.message, channel, recipients, fmt)
        changes = [
            (m.message_id, {"status": HELD, "to": m.to, "channel": m.channel, "body": m.body})
            for m in outgoing
        ] + [(u.message_id, {"status": FAILED, "reason": u.reason}) for u in undeliverable]
        deps.store.release_waiting(changes, now)
        failed = [
            FailedMessage(
                message_id=u.message_id,
                campaign_id=cid,
                customer_id=u.customer_id,
                reason=u.reason,
                at=now,
            )
            for u in undeliverable
        ]
        deps.publish_outcomes([], failed)
        released += len(rows)
    log.info("delivery.waiting_released", campaign_id=cid, variant=event.send, rows=released)
    return released


def on_winner_chosen(events: list[WinnerChosen], deps: Deps) -> None:
    """The waiting customers get the winner: rendered and held, then sent as a resumed
    campaign's held rows (not while the campaign is paused; cancelled: cancelled)."""
    for event in events:
        release_waiting(event, deps)
        if deps.release_held is not None:
            deps.release_held(event.campaign_id)
        else:
            send_held(event.campaign_id, deps)
