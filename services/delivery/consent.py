"""Delivery's part in consent: links, its copy of the suppression list, erasure.

- Every email carries ``List-Unsubscribe`` (the person's signed link, naming customer,
  channel and campaign) and ``List-Unsubscribe-Post``; ``{unsubscribeUrl}`` renders the
  same link in any message.
- ``delivery:suppressed`` (a Redis set of address hashes, libs.common.consent) is fed by
  ``suppressions.changed.v1`` from ingest, which owns the list; the sender checks every
  vendor batch against it just before the call, so an address suppressed while a
  campaign runs receives nothing more (its message ends ``suppressed``).
- A vendor receipt that says the person unsubscribed, or that the address is invalid,
  asks ingest to suppress the address (``suppression.requested.v1``); soft failures
  (mailbox full, carrier rejected...) do not.
- ``customer.erasure.requested.v1``: the person's communications lose their address,
  body and headers and are re-keyed to a hash of the customer id (counts stay right);
  the receipt ledger forgets them; ``erasure.confirmed.v1`` says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from libs.common.consent import address_hash, unsubscribe_keys
from libs.common.erasure import anonymous_id, erase_and_confirm
from libs.common.events import (
    ErasureRequested,
    Event,
    MessagesSent,
    Receipt,
    ReceiptsReceived,
    SentMessage,
    SuppressionRequested,
    SuppressionsChanged,
)
from libs.common.logging import get_logger
from libs.common.unsubscribe import TokenSigner
from services.delivery.compose import Outgoing, UnsubscribeLink
from services.delivery.context import Deps
from services.delivery.settings import DeliverySettings

log = get_logger(__name__)
SUPPRESSED_KEY = "delivery:suppressed"
PENDING_KEY = "delivery:suppress-pending"
SERVICE = "delivery"
# receipt reason (lower case, contains) -> suppression reason; anything else is soft
HARD_FAILURES = (
    ("unsubscribed", "unsubscribed"),
    ("invalid address", "invalid_address"),
    ("invalid number", "invalid_number"),
)


def link_maker(settings: DeliverySettings) -> Any:
    """campaign id -> (customer id, channel) -> the person's unsubscribe URL."""
    signer = TokenSigner(unsubscribe_keys(settings.unsubscribe_keys))
    base = settings.public_url.rstrip("/")

    def for_campaign(campaign_id: str) -> UnsubscribeLink:
        def link(customer_id: str, channel: str) -> str:
            return f"{base}/u/{signer.sign(customer_id, channel, campaign_id)}"  # type: ignore[arg-type]

        return link

    return for_campaign


def suppressed_messages(deps: Deps, batch: Sequence[Outgoing]) -> set[str]:
    """The message ids of ``batch`` whose address is suppressed (one round trip)."""
    if not batch:
        return set()
    hashes = [address_hash(m.channel, m.to) for m in batch]
    found = deps.redis.smismember(SUPPRESSED_KEY, hashes)
    return {m.message_id for m, hit in zip(batch, found, strict=True) if hit}


def hard_failure(reason: str | None) -> str | None:
    text = (reason or "").lower()
    return next((why for needle, why in HARD_FAILURES if needle in text), None)


def request_suppressions(events: Sequence[Event], deps: Deps) -> None:
    """Receipts that say unsubscribed or invalid → ask ingest to suppress the address.

    The address comes from the message's announcement (``MessagesSent``) in the same
    run, or from its row (announced earlier; one read, of hard failures only). A
    receipt read before its announcement waits in ``delivery:suppress-pending``
    (message id -> reason) for it: one HMGET per run of announcements."""
    sent = {m.message_id: m for e in events if isinstance(e, MessagesSent) for m in e.messages}
    hard: dict[str, tuple[Receipt, str]] = {
        r.message_id: (r, why)
        for e in events
        if isinstance(e, ReceiptsReceived)
        for r in e.receipts
        if r.status == "FAILED" and (why := hard_failure(r.reason))
    }
    requests: list[Event] = []
    waiting: dict[Any, Any] = {}  # message id -> [why, at] (redis-py types its mapping loosely)
    unknown = [mid for mid in hard if not (mid in sent and sent[mid].to)]
    # announced in an earlier run: its row holds the address (hard failures are few)
    rows = (
        {
            d["_id"]: d
            for d in deps.store.comms.find(
                {"_id": {"$in": unknown}}, {"to": 1, "channel": 1, "customer_id": 1}
            )
        }
        if unknown
        else {}
    )
    for mid, (receipt, why) in hard.items():
        message = sent.get(mid)
        row = rows.get(mid)
        if (message is None or not message.to) and row is not None and row.get("to"):
            message = SentMessage(
                message_id=mid,
                campaign_id=receipt.campaign_id,
                customer_id=receipt.customer_id,
                vendor_message_id=receipt.vendor_message_id,
                at=receipt.at,
                channel=row.get("channel"),
                to=row["to"],
            )
        if message is None or not message.to:
            waiting[mid] = orjson.dumps([why, receipt.at.isoformat()]).decode()
            continue
        requests.append(_request(message, why, receipt.at))
    announced = [mid for mid, m in sent.items() if mid not in hard and m.to]
    if announced:
        pending = deps.redis.hmget(PENDING_KEY, announced)
        for mid, raw in zip(announced, pending, strict=True):
            if raw is not None:
                why, at = orjson.loads(raw)
                requests.append(_request(sent[mid], why, datetime.fromisoformat(at)))
        done = [mid for mid, raw in zip(announced, pending, strict=True) if raw is not None]
        if done:
            deps.redis.hdel(PENDING_KEY, *done)
    if waiting:
        deps.redis.hset(PENDING_KEY, mapping=waiting)
    if requests:
        deps.publish(requests)
        log.info("delivery.suppressions_requested", count=len(requests))


def _request(message: SentMessage, why: str, at: datetime) -> SuppressionRequested:
    return SuppressionRequested(
        channel=message.channel,
        address=str(message.to),
        reason=why,
        source="vendor",
        customer_id=message.customer_id,
        campaign_id=message.campaign_id,
        at=at,
    )


def on_suppressions_changed(events: Sequence[SuppressionsChanged], deps: Deps) -> None:
    pipe = deps.redis.pipeline(transaction=False)
    for event in events:
        for change in event.changes:
            if change.suppressed:
                pipe.sadd(SUPPRESSED_KEY, change.address_hash)
            else:
                pipe.srem(SUPPRESSED_KEY, change.address_hash)
    pipe.execute()


def on_erasure_requested(events: Sequence[ErasureRequested], deps: Deps) -> None:
    erase_and_confirm(events, SERVICE, lambda cid: erase_customer(deps, cid), deps.publish)


def erase_customer(deps: Deps, customer_id: str) -> dict[str, int]:
    comms = deps.store.comms
    anonymous = anonymous_id(customer_id)
    rows = list(comms.find({"customer_id": customer_id}))
    for row in rows:
        kept = {k: v for k, v in row.items() if k not in ("_id", "to", "body", "headers")}
        kept.update(customer_id=anonymous, erased=True)
        new_id = f"{row['campaign_id']}:{anonymous}"
        comms.replace_one({"_id": new_id}, {"_id": new_id, **kept}, upsert=True)
        comms.delete_one({"_id": row["_id"]})
    refused = deps.store.refused.delete_many(
        {"client_ref": {"$in": [r["_id"] for r in rows]}}
    ).deleted_count
    forgotten = 0
    for key in deps.redis.scan_iter(match="delivery:sent:*", count=500):
        forgotten += int(deps.redis.hdel(key, customer_id))
    log.info("delivery.customer_erased", communications=len(rows))
    return {"communications": len(rows), "refused_receipts": refused, "ledger": forgotten}


def ignore(events: Sequence[Any], deps: Deps) -> None:
    """The consent stream's other entries are for ingest."""
