"""Benchmark of the columnar audience preview (issue 8 item 3), not part of the suite.

    python tests/ingest/bench_preview.py --customers 1000000 --queries 300

Builds the read model from sample customers shaped as the worker stores them, then
times count + 20 samples for 3-condition rules (cold first query, then p50/p95/p99),
and reports the model's memory (tracemalloc of the build).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from libs.common.events import CustomerRecord
from libs.common.rules import parse_rules, used_fields
from services.ingest.aggregates import build_customer
from services.ingest.columns import Columns
from services.ingest.models import CustomerIn

ROOT = Path(__file__).resolve().parents[2]
RULES = [
    {
        "operator": "AND",
        "conditions": [
            {"field": "totalSpends", "operator": ">", "value": "10000"},
            {"field": "lastVisit", "operator": "inactive_days", "value": 90},
            {"field": "city", "operator": "in", "value": ["Mumbai", "Pune", "London"]},
        ],
    },
    {
        "operator": "OR",
        "conditions": [
            {"field": "tags", "operator": "contains", "value": "vip"},
            {"field": "visits", "operator": ">=", "value": 20},
            {"field": "email", "operator": "contains", "value": "sharma"},
        ],
    },
    {
        "operator": "AND",
        "conditions": [
            {"field": "orderCount", "operator": "=", "value": 0},
            {"field": "createdAt", "operator": "active_within_days", "value": 365},
            {"field": "timezone", "operator": "!=", "value": "Asia/Kolkata"},
        ],
    },
]


def sample_docs(n: int, now: datetime) -> list[dict[str, Any]]:
    spec = importlib.util.spec_from_file_location("sample_data", ROOT / "scripts/sample_data.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    customers, _ = module.generate(n, 1, now)
    docs = []
    for raw in customers:
        record = CustomerRecord.model_validate(CustomerIn.model_validate(raw).record())
        doc = build_customer(None, record, [], now)
        assert doc is not None
        docs.append({"_id": record.id, **doc})
    return docs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    now = datetime.now(UTC)
    started = time.perf_counter()
    docs = sample_docs(args.customers, now)
    out = sys.stdout.write
    out(f"generated {len(docs)} docs in {time.perf_counter() - started:.1f}s\n")

    tracemalloc.start()
    started = time.perf_counter()
    columns = Columns()
    columns.upsert(docs)
    build_s = time.perf_counter() - started
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del docs
    out(f"built model in {build_s:.1f}s; model memory {current / 1e6:.0f} MB\n")

    def preview(raw: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        group = parse_rules(raw)
        mask = columns.audience(group, datetime.now(UTC))
        return int(mask.sum()), columns.sample(mask, 20, used_fields(group))

    for raw in RULES:
        started = time.perf_counter()
        count, _ = preview(raw)
        cold_ms = (time.perf_counter() - started) * 1000
        timings = []
        for _ in range(args.queries):
            started = time.perf_counter()
            preview(raw)
            timings.append((time.perf_counter() - started) * 1000)
        q = statistics.quantiles(timings, n=100)
        out(
            f"rule {[c['field'] for c in raw['conditions']]}: count={count} cold={cold_ms:.1f}ms "
            f"p50={q[49]:.1f}ms p95={q[94]:.1f}ms p99={q[98]:.1f}ms\n"
        )


if __name__ == "__main__":
    main()
