"""The one builder of a ``communications`` row (services.delivery.store): one row per
message, ``_id`` the message id ``"{campaign_id}:{customer_id}"``.

    _id, campaign_id, customer_id   whose message it is
    status                          held | sent | delivered | failed | cancelled |
                                    suppressed | holdout | waiting
    created_at, updated_at          when the row was first and last written
    to, channel, body               what was (or will be) sent, once rendered
    headers                         an email's List-Unsubscribe headers (issue #22)
    vendor_message_id, sent_at      the vendor's id and when it accepted the message
    reason                          why it failed or was cancelled
    receipt_batch                   the receipt call that made it final (dedupe token)

Fields left ``None`` are not written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def communication(
    message_id: str,
    campaign_id: str,
    customer_id: str,
    *,
    status: str,
    created_at: datetime,
    updated_at: datetime | None = None,
    to: str | None = None,
    channel: str | None = None,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    vendor_message_id: str | None = None,
    sent_at: datetime | None = None,
    reason: str | None = None,
    receipt_batch: str | None = None,
) -> dict[str, Any]:
    optional = {
        "to": to,
        "channel": channel,
        "body": body,
        "headers": headers,
        "vendor_message_id": vendor_message_id,
        "sent_at": sent_at,
        "reason": reason,
        "receipt_batch": receipt_batch,
    }
    return {
        "_id": message_id,
        "campaign_id": campaign_id,
        "customer_id": customer_id,
        "status": status,
        "created_at": created_at,
        "updated_at": updated_at or created_at,
        **{name: value for name, value in optional.items() if value is not None},
    }
