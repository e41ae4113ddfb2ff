"""Journey messages onto the ``send`` stream, as campaign chunks are: delivery renders
them with the same templates, consent and vendor path, and dedupes them by message id
(``jid.step.entry:cid``, see services.campaign.journeys.runner)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from libs.common.events import Recipient, SendRequested
from libs.common.streams import StreamProducer
from libs.common.templates import PLACEHOLDERS, placeholder_values
from services.campaign.journeys.runner import Send

Doc = dict[str, Any]
CHUNK = 500


def recipient(customer_id: str, doc: Doc | None) -> Recipient:
    doc = doc or {"_id": customer_id}
    return Recipient(
        customer_id=customer_id,
        name=doc.get("name"),
        email=doc.get("email"),
        phone=doc.get("phone"),
        timezone=doc.get("timezone"),
        fields=placeholder_values(doc, list(PLACEHOLDERS)),
    )


def send_entries(sends: Sequence[Send], customers: dict[str, Doc]) -> list[SendRequested]:
    grouped: dict[tuple[str, str, str], list[Recipient]] = {}
    for send in sends:
        key = (send.campaign_id, send.step.message, send.step.channel)
        grouped.setdefault(key, []).append(
            recipient(send.customer_id, customers.get(send.customer_id))
        )
    entries: list[SendRequested] = []
    for (campaign_id, message, channel), recipients in grouped.items():
        for start in range(0, len(recipients), CHUNK):
            part = recipients[start : start + CHUNK]
            # the chunk number only names the chunk; the same recipients give the same one
            chunk = zlib.crc32("\n".join(r.customer_id for r in part).encode()) & 0x7FFFFFFF
            entries.append(
                SendRequested(
                    campaign_id=campaign_id,
                    message=message,
                    channel=channel,
                    chunk=chunk,
                    recipients=part,
                )
            )
    return entries


def publish_sends(
    producer: StreamProducer, sends: Sequence[Send], customers: dict[str, Doc]
) -> int:
    entries = send_entries(sends, customers)
    producer.publish(entries)
    return len(sends)
