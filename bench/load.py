"""HTTP load generators (asyncio + httpx, 127.0.0.1 only, bounded in count and time).

- ``post_batches``: closed loop, ``concurrency`` clients each posting the next batch as
  soon as their previous one was answered, until every batch was sent or the deadline.
- ``open_loop``: a bounded-rate generator: request k is scheduled at ``start + k/rate``
  whatever happened to the earlier ones, and its latency is measured from that
  scheduled time, so a stalled server shows up as latency (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from bench.rawhttp import Pool, build_post


@dataclass
class BatchResult:
    accepted: int = 0
    requests: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    entry_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    first_error: str = ""


async def post_batches(
    base_url: str,
    path: str,
    bodies: Sequence[bytes],
    *,
    headers: dict[str, str],
    concurrency: int = 8,
    deadline_s: float = 600,
    cookies: httpx.Cookies | None = None,
) -> BatchResult:
    """POST pre-serialised JSON bodies; count ``accepted`` from the 202 answers."""
    result = BatchResult()
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    all_headers = {"Content-Type": "application/json", **headers}
    started = time.perf_counter()
    deadline = started + deadline_s

    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=60, cookies=cookies
    ) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                try:
                    body = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                try:
                    response = await client.post(path, content=body, headers=all_headers)
                except httpx.HTTPError as exc:
                    result.errors += 1
                    result.first_error = result.first_error or repr(exc)
                    continue
                result.requests += 1
                result.statuses[response.status_code] = (
                    result.statuses.get(response.status_code, 0) + 1
                )
                if response.status_code == 202:
                    answer = orjson.loads(response.content)
                    result.accepted += int(answer.get("accepted", 0))
                    result.entry_ids.extend(answer.get("entryIds", []))
                else:
                    result.errors += 1
                    result.first_error = result.first_error or (
                        f"{response.status_code} {response.text[:300]}"
                    )

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class OpenLoopResult:
    offered: int
    completed: int
    errors: int
    latencies_ms: list[float]
    seconds: float
    first_error: str = ""
    max_lag_ms: float = 0.0  # how late the generator itself fired (its own overload)


async def open_loop(
    base_url: str,
    path: str,
    body_for: Callable[[int], bytes],
    *,
    headers: dict[str, str],
    rate: float,
    duration_s: float,
    max_connections: int = 64,
    timeout_s: float = 10,
) -> OpenLoopResult:
    """Requests go through bench.rawhttp (cheap on the client's CPU), built up front."""
    url = httpx.URL(base_url)
    host, port = str(url.host), int(url.port or 80)
    total = int(rate * duration_s)
    requests = [build_post(f"{host}:{port}", path, body_for(k), headers) for k in range(total)]
    latencies: list[float] = []
    errors = 0
    first_error = ""
    max_lag = 0.0
    pool = Pool(host, port, max_connections)
    await pool.open()

    async def one(raw: bytes, scheduled: float) -> None:
        nonlocal errors, first_error
        try:
            reply = await pool.request(raw, timeout_s)
            ok = reply.status == 202
            if not ok:
                first_error = first_error or f"{reply.status} {reply.body[:200]!r}"
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            ok = False
            first_error = first_error or repr(exc)
        if ok:
            latencies.append((time.perf_counter() - scheduled) * 1000)
        else:
            errors += 1

    tasks: set[asyncio.Task[None]] = set()
    # The generator must not pause on its own: a collection of its heap would make
    # requests late, and lateness is billed as latency.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        start = time.perf_counter() + 0.05
        for k, raw in enumerate(requests):
            scheduled = start + k / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                max_lag = max(max_lag, -delay * 1000)
            task = asyncio.create_task(one(raw, scheduled))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s + 5)
    finally:
        gc.enable()
        gc.unfreeze()
    seconds = time.perf_counter() - start
    await pool.close()
    return OpenLoopResult(
        offered=total,
        completed=len(latencies),
        errors=errors,
        latencies_ms=latencies,
        seconds=seconds,
        first_error=first_error,
        max_lag_ms=max_lag,
    )


def json_body(value: Any) -> bytes:
    return orjson.dumps(value)
