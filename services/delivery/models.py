"""Communications: statuses, the stored document's shape, and the HTTP models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# A message's life. A status only ever moves forward: held -> sent -> delivered|failed;
# held -> cancelled; (new) -> failed when the vendor refuses it or is out of reach.
HELD = "held"
SENT = "sent"
DELIVERED = "delivered"
FAILED = "failed"
CANCELLED = "cancelled"
SUPPRESSED = "suppressed"  # the address was suppressed before it left: final, no failure
CAPPED = "capped"  # over the frequency cap (services.delivery.pacing): never sent
# Campaigns with variants (services.delivery.experiment): never sent, and waiting for
# the test's winner (then held).
HOLDOUT = "holdout"
WAITING = "waiting"
STATUSES = (HELD, SENT, DELIVERED, FAILED, CANCELLED, SUPPRESSED, CAPPED, HOLDOUT, WAITING)
FINAL = (DELIVERED, FAILED, CANCELLED, SUPPRESSED, CAPPED)
# Not a stored status: the communications filter for every message not final yet.
PENDING = "pending"
PENDING_STATUSES = (HELD, SENT, WAITING)


class _Api(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class VendorReceipt(_Api):
    vendor_message_id: str = Field(alias="vendorMessageId", min_length=1, max_length=200)
    client_ref: str = Field(alias="clientRef", min_length=3, max_length=300, pattern=r"^[^:]+:.+$")
    status: Literal["DELIVERED", "FAILED"]
    timestamp: datetime
    reason: str | None = Field(None, max_length=500)


class ReceiptBatch(_Api):
    receipts: list[VendorReceipt] = Field(min_length=1)


class RefusedReceipt(_Api):
    client_ref: str = Field(serialization_alias="clientRef")
    vendor_message_id: str = Field(serialization_alias="vendorMessageId")
    reason: str  # not_sent | vendor_id_mismatch


class ReceiptsAccepted(_Api):
    accepted: int
    entry_ids: list[str] = Field(serialization_alias="entryIds")
    refused: list[RefusedReceipt] = Field(default_factory=list)


class Communication(_Api):
    id: str
    campaign_id: str = Field(serialization_alias="campaignId")
    customer_id: str = Field(serialization_alias="customerId")
    to: str | None = None
    channel: str | None = None
    body: str | None = None
    headers: dict[str, str] | None = None
    status: str
    vendor_message_id: str | None = Field(None, serialization_alias="vendorMessageId")
    reason: str | None = None
    updated_at: datetime | None = Field(None, serialization_alias="updatedAt")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Communication:
        return cls(
            id=doc["_id"],
            campaign_id=doc["campaign_id"],
            customer_id=doc["customer_id"],
            to=doc.get("to"),
            channel=doc.get("channel"),
            body=doc.get("body"),
            headers=doc.get("headers"),
            status=doc["status"],
            vendor_message_id=doc.get("vendor_message_id"),
            reason=doc.get("reason"),
            updated_at=doc.get("updated_at"),
        )


class CommunicationPage(_Api):
    items: list[Communication]
    total: int
    page: int
    page_size: int = Field(serialization_alias="pageSize")


class CustomerCommunications(_Api):
    items: list[Communication]
