"""Prometheus metrics shared by every process (one default registry per process)."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "crm_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "crm_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
STREAM_PROCESSED = Counter(
    "crm_stream_processed_total", "Stream entries handled and acked", ["stream", "group"]
)
STREAM_FAILED = Counter(
    "crm_stream_failed_total", "Stream entries whose handler raised", ["stream", "group"]
)
STREAM_DEAD_LETTERED = Counter(
    "crm_stream_dead_lettered_total", "Stream entries moved to the DLQ", ["stream", "group"]
)
STREAM_CLAIMED = Counter(
    "crm_stream_claimed_total", "Entries taken over from idle consumers", ["stream", "group"]
)
STREAM_BATCH_SECONDS = Histogram(
    "crm_stream_batch_seconds",
    "Time to handle one batch",
    ["stream", "group"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
STREAM_LAG = Gauge("crm_stream_lag", "Entries not yet delivered to the group", ["stream", "group"])
STREAM_PENDING = Gauge("crm_stream_pending", "Entries delivered but not acked", ["stream", "group"])

# (service, method, route, status) -> the two children: labels() costs a lock and a
# tuple build per call, on every request
_request_children: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}


def observe_request(service: str, method: str, route: str, status: int, seconds: float) -> None:
    key = (service, method, route, status)
    children = _request_children.get(key)
    if children is None:
        children = _request_children[key] = (
            HTTP_REQUESTS.labels(service, method, route, str(status)),
            HTTP_LATENCY.labels(service, method, route),
        )
    children[0].inc()
    children[1].observe(seconds)
