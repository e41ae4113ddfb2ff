"""Ingestion benchmarks on a running stack: acceptance, end to end, latency under load."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import orjson
import pymongo
import redis
import uvloop

from bench import data
from bench.cpu import PhaseCpu
from bench.load import open_loop, post_batches
from bench.memory import cpu_seconds
from bench.report import Figure, percentile
from libs.common.mongo import count_matching
from libs.common.settings import DEV_INTERNAL_TOKEN
from tests.support.stack import RunningStack

BATCH = 1000
INGEST_STREAM = "ingest"  # libs.common.streams.names
INGEST_CONSUMERS = ("ingest-worker", "ai-worker")


def internal_headers(stack: RunningStack) -> dict[str, str]:
    """What the gateway adds in front of a service (the bench plays the gateway)."""
    return {
        "X-Internal-Token": stack.env.get("INTERNAL_TOKEN", DEV_INTERNAL_TOKEN),
        "X-User-Id": "bench",
        "X-User-Email": "bench@minicrm.local",
        "X-Auth-Scopes": "ingest,read,campaigns",
    }


@contextmanager
def signed_in(stack: RunningStack) -> Iterator[httpx.Client]:
    """A gateway client with a development-login session (the stack enables it)."""
    with httpx.Client(base_url=stack.url, timeout=60, headers={"Origin": stack.url}) as client:
        who = {"email": "bench@example.com", "name": "Bench"}
        for attempt in range(5):  # a busy database can fail one sign-in: not the point here
            answer = client.post("/auth/dev-login", json=who)
            if answer.status_code < 500 or attempt == 4:
                break
            time.sleep(3)
        answer.raise_for_status()
        yield client


def api_key(stack: RunningStack) -> str:
    with signed_in(stack) as client:
        response = client.post("/api/keys", json={"name": "bench", "scopes": ["ingest", "read"]})
        response.raise_for_status()
        return str(response.json()["key"])


def batch_bodies(records: int, prefix: str) -> list[bytes]:
    return [
        orjson.dumps(
            {"customers": [data.api_customer(i, prefix) for i in range(s, min(s + BATCH, records))]}
        )
        for s in range(0, records, BATCH)
    ]


@contextmanager
def fsync_always(redis_url: str) -> Iterator[None]:
    """Redis fsyncs its append-only file before each reply while inside; restored after."""
    client = redis.Redis.from_url(redis_url)
    before = client.config_get("appendonly")["appendonly"], client.config_get("appendfsync")
    client.config_set("appendonly", "yes")
    client.config_set("appendfsync", "always")
    deadline = time.monotonic() + 300
    while int(client.info("persistence")["aof_rewrite_in_progress"]):  # the initial write
        if time.monotonic() > deadline:
            raise TimeoutError("Redis did not finish writing its append-only file")
        time.sleep(0.2)
    try:
        yield
    finally:
        client.config_set("appendfsync", before[1]["appendfsync"])
        client.config_set("appendonly", before[0])
        client.close()


def _records_in_stream(redis_url: str, entry_ids: list[str]) -> int:
    """Sum of the chunk sizes of these entries, read back from the stream."""
    if not entry_ids:
        return 0
    wanted = set(entry_ids)
    r = redis.Redis.from_url(redis_url)
    total = 0
    start = min(entry_ids, key=lambda e: tuple(int(x) for x in e.split("-")))
    try:
        while True:
            page: list[tuple[bytes, dict[bytes, bytes]]] = r.xrange(  # type: ignore[assignment]
                INGEST_STREAM, min=start, count=200
            )
            if not page:
                break
            for entry_id, fields in page:
                if entry_id.decode() in wanted:
                    total += len(orjson.loads(fields[b"data"])["customers"])
            last = page[-1][0].decode()
            ms, seq = last.split("-")
            start = f"{ms}-{int(seq) + 1}"
    finally:
        r.close()
    return total


def wait_api_idle(stack: RunningStack, timeout_s: float = 180) -> float:
    """Wait until the ingest API uses under 5% of a core (its preview read model has
    applied the previous phases' changes); returns the seconds waited."""
    pid = stack.procs["ingest-api"].pid
    started = time.perf_counter()
    before = cpu_seconds(pid)
    while time.perf_counter() - started < timeout_s:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now - before < 0.05:
            break
        before = now
    return time.perf_counter() - started


def accept(
    stack: RunningStack,
    redis_url: str,
    records: int,
    *,
    via_gateway: bool,
    concurrency: int = 8,
    durable: bool = False,
) -> list[Figure]:
    """POST 1,000-record batches until ``records`` are accepted; verify them in the stream.

    Run with the ``ingest`` stream's consumers stopped, so the figure is the API's own
    acceptance rate and not shared with the worker's database writes on the same cores.
    ``durable``: the same against Redis with ``appendonly yes`` and ``appendfsync always``
    (a 202 only after the entries are fsynced: docs/operations.md, "What survives").
    """
    if durable:
        with fsync_always(redis_url):
            figures = accept(stack, redis_url, records, via_gateway=False, concurrency=concurrency)
        return [
            Figure(
                f.key.replace("ingest_accept", "ingest_accept_durable", 1),
                f.value,
                f.unit,
                "Redis appendonly yes + appendfsync always (fsync before every reply): " + f.method,
                "",
            )
            for f in figures
        ]
    prefix = "g" if via_gateway else "a"
    bodies = batch_bodies(records, prefix)
    if via_gateway:
        base, headers, key = (
            stack.url,
            {"Authorization": f"Bearer {api_key(stack)}"},
            "_via_gateway",
        )
    else:
        base, headers, key = stack.layout.url("ingest"), internal_headers(stack), ""
    # The stream's consumers are stopped (nothing drains: waiting for them only ran
    # into the 300-s timeout); the API has applied the earlier phases' changes.
    idle_after_s = wait_api_idle(stack)
    api_pid = stack.procs["ingest-api"].pid
    cpu_before = cpu_seconds(api_pid)
    result = asyncio.run(
        post_batches(base, "/api/customers/batch", bodies, headers=headers, concurrency=concurrency)
    )
    api_cpu = cpu_seconds(api_pid) - cpu_before
    in_stream = _records_in_stream(redis_url, result.entry_ids)
    note = (
        ""
        if in_stream == result.accepted == records
        else (
            f"; MISMATCH: {result.accepted:,} accepted, {in_stream:,} in stream, "
            f"statuses {result.statuses}, {result.first_error}"
        )
    )
    where = "gateway (API key)" if via_gateway else "ingest API direct (X-Internal-Token)"
    per_cpu_s = result.accepted / api_cpu if api_cpu else None
    return [
        Figure(
            f"ingest_accept{key}_records_per_s",
            result.accepted / result.seconds if result.accepted else None,
            "records/s",
            f"POST /api/customers/batch 1,000/request via {where}, {concurrency} httpx async "
            f"connections, {records:,} records in {result.seconds:.2f} s, "
            f"{in_stream:,} verified in the stream (chunk sizes summed), started once the "
            f"API was idle ({idle_after_s:.0f} s after the previous phase){note}",
            ">= 100,000" if not via_gateway else "",
        ),
        Figure(
            f"ingest_accept{key}_records_per_api_cpu_s",
            per_cpu_s,
            "records/CPU-s",
            f"the same run: records accepted per CPU-second used by the ingest API process "
            f"(user+system from /proc, {api_cpu:.2f} s): the API's own cost, whatever else "
            f"the machine was doing",
        ),
    ]


def wait_drained(redis_url: str, group: str | None = "ingest", timeout_s: float = 300) -> float:
    """Wait until ``group`` (None: every group) has read and acked every entry of the
    ingest stream, so an earlier phase's records are not counted in the next one.
    Returns the seconds waited."""
    r = redis.Redis.from_url(redis_url)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < timeout_s:
            groups = {g["name"].decode(): g for g in r.xinfo_groups(INGEST_STREAM)}
            states = list(groups.values()) if group is None else [groups.get(group)]
            if all(s is None or (not s.get("lag") and not s["pending"]) for s in states):
                break
            time.sleep(0.5)
    finally:
        r.close()
    return time.perf_counter() - started


def end_to_end(
    stack: RunningStack,
    mongo_uri: str,
    records: int,
    deadline_s: float,
    *,
    prefix: str = "e",
    key: str = "ingest_e2e_records_per_s",
    setup: str = "",
) -> Figure:
    """HTTP -> stream -> ingest worker -> DB until every record is in the customers collection."""
    db_name = stack.env["DB_PREFIX"] + "ingest"
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(mongo_uri)
    coll = client[db_name]["customers"]
    wait_drained(stack.env["REDIS_URL"])
    before = coll.estimated_document_count()
    bodies = batch_bodies(records, prefix)
    started = time.perf_counter()
    result = asyncio.run(
        post_batches(
            stack.layout.url("ingest"),
            "/api/customers/batch",
            bodies,
            headers=internal_headers(stack),
            concurrency=4,
        )
    )
    accepted_s = time.perf_counter() - started
    target = before + result.accepted
    count = before
    while time.perf_counter() - started < deadline_s:
        # the collection's document count is metadata on both servers: cheap to poll
        count = coll.estimated_document_count()
        if count >= target:
            break
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    readable = count_matching(coll, {"_id": {"$gte": prefix, "$lt": chr(ord(prefix) + 1)}})
    client.close()
    done = readable >= records and result.accepted == records
    return Figure(
        key,
        readable / elapsed if readable else None,
        "records/s",
        setup
        + f"POST 1,000-record batches to the ingest API (4 connections), until all {records:,} "
        f"are documents in {db_name}.customers: {elapsed:.2f} s (accepted in {accepted_s:.2f} s)"
        + ("" if done else f"; INCOMPLETE: {readable:,} readable after {deadline_s:.0f} s"),
    )


def single_post_latency(
    stack: RunningStack, rate: float, duration_s: float, servers: dict[str, int] | None = None
) -> list[Figure]:
    """Open-loop single-record POST /api/customers at ``rate``/s offered, direct to ingest.

    ``servers``: the redis and database servers' pids, accounted for beside the stack's."""

    def body(k: int) -> bytes:
        return orjson.dumps(data.api_customer(k, "s"))

    # the earlier phase's backlog drained first: the figure is about this load alone
    idle_after_s = wait_drained(stack.env["REDIS_URL"], group=None) + wait_api_idle(stack)
    api_pid = stack.procs["ingest-api"].pid
    cpu_before = cpu_seconds(api_pid)
    phase_cpu = PhaseCpu({**{n: p.pid for n, p in stack.procs.items()}, **(servers or {})})
    # uvloop: the generator's own CPU per request is what delays requests at 1,000/s
    result = uvloop.run(
        open_loop(
            stack.layout.url("ingest"),
            "/api/customers",
            body,
            headers=internal_headers(stack),
            rate=rate,
            duration_s=duration_s,
        )
    )
    api_cpu_us = (cpu_seconds(api_pid) - cpu_before) / max(result.offered, 1) * 1e6
    lat = result.latencies_ms
    method = (
        f"open loop: {result.offered:,} single-record POST /api/customers scheduled at "
        f"{rate:,.0f}/s for {duration_s:.0f} s, started once every group on the ingest "
        f"stream had drained and the API was idle ({idle_after_s:.0f} s after the previous "
        f"phase; asyncio, keep-alive pool of 64 connections opened before the first "
        f"request, latency from the scheduled send time), {result.completed:,} answered "
        f"202, {result.errors} errors, "
        f"generator max lag {result.max_lag_ms:.1f} ms, ingest API CPU {api_cpu_us:.0f} us per "
        f"request (the stream workers drain the same records meanwhile). "
        + phase_cpu.describe()
        + (f"; first error: {result.first_error}" if result.first_error else "")
    )
    p50 = percentile(lat, 50) if lat else None
    p99 = percentile(lat, 99) if lat else None
    return [
        Figure("single_post_p50_ms", p50, "ms", method),
        Figure("single_post_p99_ms", p99, "ms", "same run as single_post_p50_ms", "<= 10"),
    ]
