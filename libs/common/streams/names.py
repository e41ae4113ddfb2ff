"""Stream and consumer-group names: the one table every service agrees on."""

from __future__ import annotations

INGEST = "ingest"
SEGMENT = "segment"
SEND = "send"
RECEIPT = "receipt"
CAMPAIGN_EVENTS = "campaign_events"

ALL_STREAMS: tuple[str, ...] = (INGEST, SEGMENT, SEND, RECEIPT, CAMPAIGN_EVENTS)


def dlq_name(stream: str) -> str:
    return f"{stream}.dlq"
