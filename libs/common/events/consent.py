"""Stream ``consent``: who may be messaged, suppressed addresses, erasure of a person.

Producers and consumers (docs/architecture.md, "Consent"):
- ``consent.changed.v1``: ingest API (the /u/ link, the preference page) -> ingest
  (group ``consent``) sets the customer's consent and records the unsubscription;
- ``suppression.requested.v1``: delivery (a vendor receipt saying unsubscribed, or a
  hard failure) -> ingest adds the address to its suppression list;
- ``suppressions.changed.v1``: ingest, after every change of the list -> delivery
  (group ``delivery``) keeps its own set of suppressed address hashes;
- ``customer.erasure.requested.v1``: ingest API -> every service holding data about
  the customer (ingest, delivery, ai) removes or anonymises it, then
- ``erasure.confirmed.v1``: each of them -> ingest records the confirmation.

Addresses travel as given (lower-cased emails); the set delivery keeps, and an erased
person's suppression, hold only ``address_hash`` (libs.common.consent).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from libs.common.events.base import Event

ConsentState = Literal["subscribed", "unsubscribed", "unknown"]


class ConsentChanged(Event):
    TYPE: ClassVar[str] = "consent.changed.v1"
    STREAM: ClassVar[str] = "consent"
    customer_id: str
    channel: Literal["email", "sms"]
    state: ConsentState
    source: Literal["api", "import", "link", "vendor", "admin"]
    campaign_id: str | None = None
    at: datetime

    def partition_key(self) -> str:
        return self.customer_id


class SuppressionRequested(Event):
    TYPE: ClassVar[str] = "suppression.requested.v1"
    STREAM: ClassVar[str] = "consent"
    channel: Literal["email", "sms"]
    address: str
    reason: str  # unsubscribed | invalid_address | ...
    source: str = "vendor"
    customer_id: str | None = None
    campaign_id: str | None = None
    at: datetime

    def partition_key(self) -> str:
        return self.address


class SuppressionChange(BaseModel):
    channel: Literal["email", "sms"]
    address_hash: str
    suppressed: bool  # False: removed from the list


class SuppressionsChanged(Event):
    TYPE: ClassVar[str] = "suppressions.changed.v1"
    STREAM: ClassVar[str] = "consent"
    changes: list[SuppressionChange] = Field(default_factory=list)


class ErasureRequested(Event):
    TYPE: ClassVar[str] = "customer.erasure.requested.v1"
    STREAM: ClassVar[str] = "consent"
    customer_id: str
    requested_at: datetime

    def partition_key(self) -> str:
        return self.customer_id


class ErasureConfirmed(Event):
    TYPE: ClassVar[str] = "erasure.confirmed.v1"
    STREAM: ClassVar[str] = "consent"
    customer_id: str
    service: str
    removed: dict[str, int] = Field(default_factory=dict)  # collection -> documents
    at: datetime

    def partition_key(self) -> str:
        return self.customer_id


CONSENT_EVENTS: tuple[type[Event], ...] = (
    ConsentChanged,
    SuppressionRequested,
    SuppressionsChanged,
    ErasureRequested,
    ErasureConfirmed,
)
