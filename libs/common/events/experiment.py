"""An A/B experiment as it travels with a campaign's entries, and the entries of its
life: held-out customers (stream ``receipt``) and the winner decision (stream
``campaign_events``).

Every service that meets a recipient computes the same assignment from the same
``Experiment`` (libs.common.assignment: a seeded hash), so nothing per customer has to
travel for a group to be known.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, Field, PrivateAttr

from libs.common.assignment import Assignment, Split, assign
from libs.common.events.base import Event, split_records


class VariantSpec(BaseModel):
    id: str
    message: str
    share_bp: int


class Experiment(BaseModel):
    variants: list[VariantSpec]
    holdout_bp: int = 0
    test_bp: int | None = None  # None: every variant goes at once
    # Set once a test phase chose: every customer not in the test gets this variant.
    send: str | None = None

    _split: Split | None = PrivateAttr(default=None)

    def split(self) -> Split:
        if self._split is None:  # once: assign() runs per recipient
            variants = tuple((v.id, v.share_bp) for v in self.variants)
            self._split = Split(variants, self.holdout_bp, self.test_bp)
        return self._split

    def assign(self, campaign_id: str, customer_id: str) -> Assignment:
        return assign(self.split(), campaign_id, customer_id)

    def message_of(self, variant_id: str) -> str:
        return next(v.message for v in self.variants if v.id == variant_id)


class MessagesHeldOut(Event):
    """Stream ``receipt``: these customers are the campaign's holdout and get no message
    (final at once, like a cancelled message)."""

    TYPE: ClassVar[str] = "messages.held_out.v1"
    STREAM: ClassVar[str] = "receipt"
    campaign_id: str
    customer_ids: list[str]
    at: datetime

    def split_for_partitions(self, count: int) -> list[tuple[int, Event]]:
        cid = self.campaign_id
        # keyed per message (delivery.message_id), as the other receipt entries
        return split_records(self, "customer_ids", lambda c: f"{cid}:{c}", count)


class WinnerChosen(Event):
    """Stream ``campaign_events``: the test phase ended; the customers waiting for the
    winner get variant ``send`` (``winner`` None: no variant beat the control)."""

    TYPE: ClassVar[str] = "campaign.winner_chosen.v1"
    STREAM: ClassVar[str] = "campaign_events"
    campaign_id: str
    send: str
    message: str  # the message of variant ``send``
    winner: str | None = None
    metric: str
    confidence: float
    figures: dict[str, dict[str, float]] = Field(default_factory=dict)
