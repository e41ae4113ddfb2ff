"""Streams ``send`` and ``receipt``: messages to the vendor and every status change back.

``message_id`` is ``f"{campaign_id}:{customer_id}"`` everywhere: one message per
campaign and customer, which is what makes redelivery harmless.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from libs.common.events.base import Event, split_records
from libs.common.events.experiment import Experiment


def message_id(campaign_id: str, customer_id: str) -> str:
    return f"{campaign_id}:{customer_id}"


class Recipient(BaseModel):
    customer_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    timezone: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)


class LocalSend(BaseModel):
    """Send at a local time of day in each recipient's zone: the first instant at or
    after ``after`` (the campaign's launch, fixed, so a redelivered or replayed chunk
    lands on the same instants) when their clock reads ``at`` (``HH:MM``)."""

    at: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    after: datetime


class SendRequested(Event):
    """Stream ``send``: a chunk of one campaign's recipients (idempotent per recipient)."""

    TYPE: ClassVar[str] = "send.requested.v1"
    STREAM: ClassVar[str] = "send"
    campaign_id: str
    message: str
    channel: str | None = None
    chunk: int
    recipients: list[Recipient]
    # Sent again from the audience stored at resolution (a stalled campaign): handled
    # as a redelivery (same batches and vendor keys; rows that exist are re-announced).
    replay: bool = False
    # Variants and holdout: each recipient gets their variant's message (``message`` is
    # the control's); None: ``message`` to every recipient.
    experiment: Experiment | None = None
    # None: send now (quiet hours and the cap still apply)
    local_send: LocalSend | None = None

    def partition_key(self) -> str:
        return f"{self.campaign_id}:{self.chunk}"


class SentMessage(BaseModel):
    message_id: str
    campaign_id: str
    customer_id: str
    vendor_message_id: str
    at: datetime
    # What was sent: delivery's receipt worker writes the message's row from these
    # (final at once when its receipt is in the same read). None when a message is
    # announced again, its row already written.
    channel: str | None = None
    to: str | None = None
    body: str | None = None
    headers: dict[str, str] | None = None  # email: List-Unsubscribe and its -Post


class FailedMessage(BaseModel):
    message_id: str
    campaign_id: str
    customer_id: str
    reason: str
    at: datetime


class MessagesSent(Event):
    """The vendor accepted these messages."""

    TYPE: ClassVar[str] = "messages.sent.v1"
    STREAM: ClassVar[str] = "receipt"
    messages: list[SentMessage]

    def split_for_partitions(self, count: int) -> list[tuple[int, Event]]:
        # keyed per message: its sent and its receipt share a partition, in order
        return split_records(self, "messages", lambda m: m.message_id, count)


class MessagesFailed(Event):
    """Refused by the vendor for good, or the retry budget ran out."""

    TYPE: ClassVar[str] = "messages.failed.v1"
    STREAM: ClassVar[str] = "receipt"
    messages: list[FailedMessage]

    def split_for_partitions(self, count: int) -> list[tuple[int, Event]]:
        # keyed per message: its sent and its receipt share a partition, in order
        return split_records(self, "messages", lambda m: m.message_id, count)


class MessagesCancelled(Event):
    """Unsent messages of a cancelled campaign: final, never sent."""

    TYPE: ClassVar[str] = "messages.cancelled.v1"
    STREAM: ClassVar[str] = "receipt"
    campaign_id: str
    customer_ids: list[str]
    at: datetime
    # "suppressed": left out because the address was suppressed after the audience
    # was resolved (final, not a failure); None: the campaign was cancelled
    reason: str | None = None

    def split_for_partitions(self, count: int) -> list[tuple[int, Event]]:
        cid = self.campaign_id
        return split_records(self, "customer_ids", lambda c: message_id(cid, c), count)


class MessagesDeferred(Event):
    """These messages wait in delivery until ``until`` (quiet hours in the recipient's
    zone, or a send at a local time of day): not lost, not final. The campaign keeps
    its completion clock and stall watch from running out before then."""

    TYPE: ClassVar[str] = "messages.deferred.v1"
    STREAM: ClassVar[str] = "receipt"
    campaign_id: str
    customer_ids: list[str]
    until: datetime

    def split_for_partitions(self, count: int) -> list[tuple[int, Event]]:
        cid = self.campaign_id
        return split_records(self, "customer_ids", lambda c: message_id(cid, c), count)


class Receipt(BaseModel):
    message_id: str
    campaign_id: str
    customer_id: str
    vendor_message_id: str
    status: Literal["DELIVERED", "FAILED"]
    at: datetime
    reason: str | None = None


class ReceiptsReceived(Event):
    """Delivery receipts from the vendor's webhook, a batch per entry."""

    TYPE: ClassVar[str] = "receipts.received.v1"
    STREAM: ClassVar[str] = "receipt"
    receipts: list[Receipt]

    def split_for_partitions(self, count: int) -> list[tuple[int, Event]]:
        # keyed per message: its sent and its receipt share a partition, in order
        return split_records(self, "receipts", lambda r: r.message_id, count)
