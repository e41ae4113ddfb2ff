"""Audience preview over a large customer base (1,000,000 in --full).

Data setup (not the measured path): customers are bulk-inserted straight into the ingest
service's ``customers`` collection in its document shape, then the ingest API is
restarted so it builds its in-memory read model from the database, as after a deploy.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pymongo

from bench import data
from bench.ingestion import internal_headers
from bench.report import Figure, percentile
from tests.support.stack import RunningStack

PREVIEW_PATH = "/api/customers/preview"


def load_customers(mongo_uri: str, db_name: str, n: int, batch: int = 1000) -> Figure:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
    coll = client[db_name]["customers"]
    started = time.perf_counter()
    for s in range(0, n, batch):
        coll.insert_many(
            [data.stored_customer(i) for i in range(s, min(s + batch, n))], ordered=False
        )
    elapsed = time.perf_counter() - started
    total = coll.estimated_document_count()
    client.close()
    return Figure(
        "preview_load_seconds",
        elapsed,
        "s",
        f"data setup: insert_many {batch}/batch of {n:,} customer documents into "
        f"{db_name}.customers (with the service's indexes), {n / elapsed:,.0f} docs/s; "
        f"{total:,} documents in the collection",
    )


def _body(k: int) -> dict[str, Any]:
    rules = data.preview_rules()
    rules["conditions"][0]["value"] = 5000 + (k % 50)  # no two neighbours alike: no cache
    return {"rules": rules, "sampleSize": 20}


def _restart_ingest_api(stack: RunningStack, timeout_s: float) -> float:
    stack.kill("ingest-api")
    started = time.perf_counter()
    stack.start("ingest-api")
    url = f"{stack.layout.url('ingest')}/readyz"
    while time.perf_counter() - started < timeout_s:
        if stack.procs["ingest-api"].poll() is not None:
            raise RuntimeError(f"ingest-api exited:\n{stack.logs('ingest-api')[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"ingest-api not ready after {timeout_s:.0f} s")


def _model_rows(url: str) -> int:
    """Rows of the ingest API's read model, from its /metrics (no database work).

    A fresh connection each time: after a 500 the server may drop a kept-alive one.
    """
    try:
        text = httpx.get(f"{url}/metrics", timeout=10).text
    except httpx.HTTPError:
        return -1
    for line in text.splitlines():
        if line.startswith("crm_ingest_read_model_rows "):
            return int(float(line.split()[1]))
    return -1


def measure(
    stack: RunningStack, customers: int, queries: int, warm_timeout_s: float
) -> list[Figure]:
    label = f"{customers:,} customers"
    ready_s = _restart_ingest_api(stack, timeout_s=300)
    started = time.perf_counter() - ready_s
    headers = internal_headers(stack)
    url = stack.layout.url("ingest")
    with httpx.Client(base_url=stack.layout.url("ingest"), headers=headers, timeout=120) as client:
        # Cold: the first query right after /readyz, whatever the service does meanwhile.
        t = time.perf_counter()
        cold: float | None
        try:
            first = httpx.post(url + PREVIEW_PATH, json=_body(0), headers=headers, timeout=120)
            cold = (time.perf_counter() - t) * 1000
            cold_note = f"answered {first.status_code}"
            if first.status_code == 200:
                cold_note += f" from {first.json().get('source', '?')}"
            else:
                cold_note += f" {first.text[:160]}"
                cold = None
        except httpx.HTTPError as exc:
            cold, cold_note = None, f"no answer after {time.perf_counter() - t:.0f} s: {exc!r}"
        # Then wait for the read model (watched on /metrics, which costs the DB nothing).
        rows = _model_rows(url)
        while rows < customers and time.perf_counter() - started < warm_timeout_s:
            time.sleep(1)
            rows = _model_rows(url)
        model_ready_s = time.perf_counter() - started
        if rows < customers:
            # Measuring now would time database scans and pile more of them on a
            # server that is already not keeping up: report instead.
            note = (
                f"read model NOT loaded {model_ready_s:.0f} s after start ({rows} rows); "
                f"cold query: {cold_note}; see the ingest API log"
            )
            return [Figure("preview_1m_cold_ms", cold, "ms", note)]
        latencies: list[float] = []
        sources: dict[str, int] = {}
        count = samples = 0
        for q in range(queries):
            t = time.perf_counter()
            response = client.post(PREVIEW_PATH, json=_body(q))
            latencies.append((time.perf_counter() - t) * 1000)
            response.raise_for_status()
            answer = response.json()
            count, samples = int(answer["count"]), len(answer.get("sample", []))
            where = str(answer.get("source", "?"))
            sources[where] = sources.get(where, 0) + 1
    method = (
        f"{queries} sequential POST {PREVIEW_PATH} to the ingest API, 3-condition rule "
        f"(totalSpends > 5000+k AND lastVisit inactive_days 90 AND city in 3 cities), "
        f"sampleSize 20, over {label}; count {count:,}, {samples} samples returned, "
        f"answered from {sources}"
    )
    return [
        Figure(
            "preview_1m_cold_ms",
            cold,
            "ms",
            f"first preview right after a restart of the ingest API over {label} "
            f"(readyz {ready_s:.1f} s after start): {cold_note}; read model holding "
            f"{rows:,} rows {model_ready_s:.1f} s after start",
        ),
        Figure("preview_1m_p50_ms", percentile(latencies, 50), "ms", method),
        Figure("preview_1m_p95_ms", percentile(latencies, 95), "ms", "same run", "<= 50"),
        Figure("preview_1m_p99_ms", percentile(latencies, 99), "ms", "same run", "<= 100"),
    ]
