"""Benchmark of the columnar audience preview (issue 8 item 3), not part of the suite.

    python tests/ingest/bench_preview.py --customers 1000000 --queries 300
    REDIS_URL=... MONGODB_URI=... python tests/ingest/bench_preview.py --http

Builds the read model from sample customers shaped as the worker stores them, then
times count + 20 samples for 3-condition rules (cold first query, then p50/p95/p99),
and reports the model's memory (growth of the process RSS while building it:
the row ids and vocabularies are shared with the source documents, so this is a
lower bound; the report gives both figures).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import numpy as np
import orjson
import uvicorn

from libs.common.rules import parse_rules, used_fields
from libs.common.settings import DEV_INTERNAL_TOKEN
from libs.common.testing.servers import free_port
from services.ingest.app import create_app
from services.ingest.audience.columns import Columns

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
    """Customers as the worker stores them, drawn fast from the sample data vocabulary."""
    spec = importlib.util.spec_from_file_location("sample_data", ROOT / "scripts/sample_data.py")
    assert spec and spec.loader
    sd = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sd)
    rng = np.random.default_rng(1)
    cities = rng.integers(0, len(sd.CITIES), n)
    firsts = rng.integers(0, len(sd.INDIAN_FIRST), n)
    lasts = rng.integers(0, len(sd.INDIAN_LAST), n)
    spends = np.round(rng.lognormal(8, 1.2, n), 2)
    visits = rng.lognormal(2, 1, n).astype(int) + 1
    orders = rng.poisson(2, n)
    ms = int(now.timestamp() * 1000)
    last_visit = ms - (rng.exponential(120, n).clip(0, 730) * 86_400_000).astype(np.int64)
    created = last_visit - (rng.uniform(0, 900, n) * 86_400_000).astype(np.int64)
    tags_pool = ["vip", "churn-risk", *sd.TAGS]
    tag_sets = [tags_pool[i : i + k] for i in range(len(tags_pool)) for k in (1, 2)]
    tags = rng.integers(-len(tag_sets), len(tag_sets), n)
    docs = []
    for i in range(n):
        name = f"{sd.INDIAN_FIRST[firsts[i]]} {sd.INDIAN_LAST[lasts[i]]}"
        doc: dict[str, Any] = {
            "_id": f"cust_{i:07d}",
            "name": name,
            "email": f"{name.lower().replace(' ', '.')}{i}@example.com",
            "city": sd.CITIES[cities[i]][0],
            "timezone": sd.CITIES[cities[i]][1],
            "visits": int(visits[i]),
            "total_spends": float(spends[i]),
            "order_count": int(orders[i]),
            "last_visit": datetime.fromtimestamp(last_visit[i] / 1000, UTC),
            "created_at": datetime.fromtimestamp(created[i] / 1000, UTC),
            "contactable": True,
        }
        if tags[i] >= 0:
            doc["tags"] = tag_sets[tags[i]]
        docs.append(doc)
    return docs


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--http", action="store_true", help="through uvicorn + the API route")
    args = parser.parse_args()
    now = datetime.now(UTC)
    started = time.perf_counter()
    docs = sample_docs(args.customers, now)
    out = sys.stdout.write
    out(f"generated {len(docs)} docs in {time.perf_counter() - started:.1f}s\n")

    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    columns = Columns()
    columns.upsert(docs)
    columns.prepare()  # as the API's loader does
    build_s = time.perf_counter() - started
    gc.collect()
    out(f"built model in {build_s:.1f}s; RSS grew {(rss_bytes() - before) / 1e6:.0f} MB\n")
    del docs

    gc.collect()
    gc.freeze()  # as the API's loader does
    run = http_previews if args.http else direct_previews
    for raw in RULES:
        count, cold_ms, timings = run(columns, raw, args.queries)
        q = statistics.quantiles(timings, n=100)
        out(
            f"{'HTTP ' if args.http else ''}rule {[c['field'] for c in raw['conditions']]}: "
            f"count={count} cold={cold_ms:.1f}ms "
            f"p50={q[49]:.1f}ms p95={q[94]:.1f}ms p99={q[98]:.1f}ms\n"
        )


Timings = tuple[int, float, list[float]]


def direct_previews(columns: Columns, raw: dict[str, Any], queries: int) -> Timings:
    def preview() -> int:
        group = parse_rules(raw)
        mask = columns.audience(group, datetime.now(UTC))
        columns.sample(mask, 20, used_fields(group))
        return int(np.count_nonzero(mask))

    started = time.perf_counter()
    count = preview()
    cold_ms = (time.perf_counter() - started) * 1000
    timings = []
    for _ in range(queries):
        started = time.perf_counter()
        preview()
        timings.append((time.perf_counter() - started) * 1000)
    return count, cold_ms, timings


_SERVER: dict[str, Any] = {}


def http_previews(columns: Columns, raw: dict[str, Any], queries: int) -> Timings:
    """GET /api/customers/preview on the real app served by uvicorn, with the loaded
    columns (needs REDIS_URL and MONGODB_URI for the app's own start-up)."""
    if not _SERVER:
        os.environ["INGEST_COLUMNS_ENABLED"] = "false"
        app = create_app()
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        app.state.preview = SimpleNamespace(ready=True, columns=columns)
        token = {"x-internal-token": os.environ.get("INTERNAL_TOKEN", DEV_INTERNAL_TOKEN)}
        _SERVER["client"] = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=token)
    client: httpx.Client = _SERVER["client"]
    params = {"rules": orjson.dumps(raw).decode(), "sampleSize": 20}
    started = time.perf_counter()
    answer = client.get("/api/customers/preview", params=params).json()
    cold_ms = (time.perf_counter() - started) * 1000
    assert answer["source"] == "columns", answer
    timings = []
    for _ in range(queries):
        started = time.perf_counter()
        client.get("/api/customers/preview", params=params).raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    return int(answer["count"]), cold_ms, timings


if __name__ == "__main__":
    main()
