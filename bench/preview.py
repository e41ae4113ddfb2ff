"""Audience preview over a large customer base (1,000,000 in --full).

Data setup (not the measured path): customers are bulk-inserted straight into the ingest
service's ``customers`` collection in its document shape, then the ingest API is
restarted so it builds its in-memory read model from the database, as after a deploy.
"""

from __future__ import annotations

import time
from pathlib import Path
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


def _first_answer(
    url: str, headers: dict[str, str], started: float, timeout_s: float
) -> dict[str, Any]:
    """Previews from right after /readyz until one is answered 200 (the cold query).

    While the read model loads, the API answers 503 + Retry-After (cheap: no database
    work); they are polled once a second and counted, the last progress is kept.
    """
    refused = 0
    progress: Any = None
    first_status: str | None = None
    while time.perf_counter() - started < timeout_s:
        t = time.perf_counter()
        try:
            answer = httpx.post(url + PREVIEW_PATH, json=_body(0), headers=headers, timeout=120)
        except httpx.HTTPError as exc:
            first_status = first_status or f"no answer after {time.perf_counter() - t:.0f} s"
            progress = repr(exc)
            time.sleep(1)
            continue
        ms = (time.perf_counter() - t) * 1000
        first_status = first_status or f"{answer.status_code} in {ms:.1f} ms"
        if answer.status_code == 200:
            return {
                "ms": ms,
                "source": answer.json().get("source", "?"),
                "after_s": time.perf_counter() - started,
                "refused": refused,
                "first": first_status,
                "progress": progress,
            }
        refused += 1
        progress = answer.json().get("error", {}).get("details") or answer.text[:160]
        time.sleep(min(1.0, float(answer.headers.get("Retry-After", 1))))
    return {"ms": None, "refused": refused, "first": first_status, "progress": progress}


def _load_from_database(
    stack: RunningStack, customers: int, warm_timeout_s: float
) -> Figure | None:
    """Restart the ingest API with no snapshot, so it reads every customer from the
    database (as the first start after the data setup), and wait for the snapshot it
    writes then. None when the stack keeps no snapshot."""
    directory = stack.env.get("INGEST_SNAPSHOT_DIR")
    if not directory:
        return None
    for old in Path(directory).glob("*.audience.pickle"):
        old.unlink()  # taken before the data setup: the setup bypassed the notices
    _restart_ingest_api(stack, timeout_s=300)
    started = time.perf_counter()
    url = stack.layout.url("ingest")
    while time.perf_counter() - started < warm_timeout_s:
        if _model_rows(url) >= customers and any(Path(directory).glob("*.audience.pickle")):
            break
        time.sleep(1)
    seconds = time.perf_counter() - started
    return Figure(
        "preview_1m_database_load_s",
        seconds,
        "s",
        f"from the restart of the ingest API with no snapshot to its read model holding "
        f"{customers:,} rows read from the database and its snapshot written",
    )


def measure(
    stack: RunningStack, customers: int, queries: int, warm_timeout_s: float
) -> list[Figure]:
    label = f"{customers:,} customers"
    database_load = _load_from_database(stack, customers, warm_timeout_s)
    ready_s = _restart_ingest_api(stack, timeout_s=300)
    started = time.perf_counter() - ready_s
    headers = internal_headers(stack)
    url = stack.layout.url("ingest")
    with httpx.Client(base_url=stack.layout.url("ingest"), headers=headers, timeout=120) as client:
        cold = _first_answer(url, headers, started, warm_timeout_s)
        cold_note = (
            f"first query after /readyz answered {cold['first']}; {cold['refused']} answers "
            f"503 (read model loading; last progress {cold['progress']}) before the first "
            f"200"
        )
        if cold["ms"] is not None:
            cold_note += f", {cold['after_s']:.1f} s after start, from {cold['source']}"
        # A small base is answered from the database while the model loads: wait for the
        # model (watched on /metrics, which costs the database nothing).
        rows = _model_rows(url)
        while rows < customers and time.perf_counter() - started < warm_timeout_s:
            time.sleep(1)
            rows = _model_rows(url)
        model_ready_s = time.perf_counter() - started
        if rows < customers:
            note = (
                f"read model NOT loaded {model_ready_s:.0f} s after start ({rows} rows); "
                f"{cold_note}; see the ingest API log"
            )
            return [Figure("preview_1m_cold_ms", cold["ms"], "ms", note)]
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
            cold["ms"],
            "ms",
            f"latency of the first preview answered (200) after a restart of the ingest "
            f"API over {label} (readyz {ready_s:.1f} s after start): {cold_note}; read "
            f"model holding {rows:,} rows {model_ready_s:.1f} s after start",
        ),
        Figure(
            "preview_1m_ready_s",
            cold["after_s"],
            "s",
            "from the restart of the ingest API to its first preview answered 200 "
            + (
                "(read model restored from its snapshot, services/ingest/audience/snapshot.py)"
                if database_load is not None
                else "(read model loaded from the database)"
            ),
            "<= 30",
        ),
        Figure("preview_1m_p50_ms", percentile(latencies, 50), "ms", method),
        Figure("preview_1m_p95_ms", percentile(latencies, 95), "ms", "same run", "<= 50"),
        Figure("preview_1m_p99_ms", percentile(latencies, 99), "ms", "same run", "<= 100"),
        *([database_load] if database_load is not None else []),
    ]
