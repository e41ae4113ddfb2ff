"""Prometheus metrics of the ingest service (served on /metrics with the shared ones)."""

from __future__ import annotations

from functools import cache
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

RECORDS = Counter(
    "crm_ingest_records_total", "Records received by the ingestion API", ["kind", "outcome"]
)


@cache
def records(kind: str, outcome: str) -> Any:
    """RECORDS' child for these labels, looked up once (labels() costs ~5 us a call)."""
    return RECORDS.labels(kind, outcome)


PREVIEW_SECONDS = Histogram(
    "crm_ingest_preview_seconds",
    "Audience preview time (count + sample)",
    ["source"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
READ_MODEL_ROWS = Gauge("crm_ingest_read_model_rows", "Customers in the preview read model")
READ_MODEL_LOAD_SECONDS = Gauge(
    "crm_ingest_read_model_load_seconds", "Duration of the last full read model load"
)
