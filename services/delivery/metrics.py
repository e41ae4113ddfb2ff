"""Delivery's own Prometheus metrics (the stream runtime's are in libs.common.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

MESSAGES = Counter("crm_delivery_messages_total", "Messages recorded by status", ["status"])
ROW_WRITES = Counter(
    "crm_delivery_row_writes_total",
    "Rows the receipt worker wrote, by write: insert_final (announcement and receipt in one "
    "read), insert_sent, insert_from_receipt, complete (what was sent, added to one of "
    "those), update (a receipt moving a sent row)",
    ["write"],
)
VENDOR_ATTEMPTS = Counter(
    "crm_delivery_vendor_attempts_total",
    "Vendor batch requests by outcome (accepted, retry, refused, unavailable)",
    ["outcome"],
)
VENDOR_SECONDS = Histogram(
    "crm_delivery_vendor_request_seconds",
    "Vendor batch request latency",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RATE_LIMIT_WAIT_SECONDS = Counter(
    "crm_delivery_rate_limit_wait_seconds_total", "Time spent waiting for the send rate limit"
)
AUTO_PAUSES = Counter("crm_delivery_auto_pauses_total", "Campaigns paused for their failure rate")
RECEIPTS_REFUSED = Counter(
    "crm_delivery_receipts_refused_total",
    "Receipts the webhook refused, by reason: per receipt not_sent, vendor_id_mismatch; "
    "per request bad_signature, stale, replayed",
    ["reason"],
)
