"""The send worker's brake: it waits while the receipt worker is far behind.

Sending costs the database nothing but the rows' lookup; the rows are written by the
receipt worker (services.delivery.receipts). Without a brake a large campaign would be
sent as fast as the vendor takes it, and the stream would hold every message the
database has not written yet: memory in Redis, and rows missing from the API for
minutes. With it, the send worker reads its next chunks once the receipt group has at
most ``receipt_backlog_max`` entries left to read (a full read of them is what makes
one write per message likely), and after ``receipt_backlog_wait_s`` at most, so that a
stopped receipt worker does not stop sending.
"""

from __future__ import annotations

import time

import redis

from libs.common.logging import get_logger
from libs.common.streams import RECEIPT, SINGLE, StreamLayout, unread_entries

log = get_logger(__name__)

RECEIPT_GROUP = "receipt"
POLL_S = 0.05


def receipt_backlog(client: redis.Redis, layout: StreamLayout = SINGLE) -> int | None:
    """Entries of the ``receipt`` stream the receipt group has not read yet."""
    return unread_entries(client, RECEIPT, RECEIPT_GROUP, layout=layout)


def wait_for_receipts(
    client: redis.Redis, limit: int, max_wait_s: float, layout: StreamLayout = SINGLE
) -> float:
    """Wait until the receipt backlog is at most ``limit`` entries (0: never wait), or
    ``max_wait_s`` passed; returns the seconds waited."""
    if limit <= 0:
        return 0.0
    started = time.monotonic()
    while True:
        backlog = receipt_backlog(client, layout)
        waited = time.monotonic() - started
        if backlog is None or backlog <= limit:
            return waited
        if waited >= max_wait_s:
            log.warning("delivery.receipt_backlog_wait_ended", backlog=backlog, waited_s=waited)
            return waited
        time.sleep(POLL_S)
