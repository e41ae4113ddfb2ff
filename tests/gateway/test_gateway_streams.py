"""Event streams cannot starve the gateway: a cap per person, their own connection pool,
a lifetime. A real gateway (uvicorn) in front of a real streaming upstream."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from services.gateway.app import create_app
from tests.gateway.served import Served

pytestmark = pytest.mark.integration

ORIGIN = "http://testserver"


def run_in_own_loop(scenario: Any) -> None:
    """Its own thread and loop: a session fixture (playwright) may hold this thread's."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()


def streaming_upstream() -> FastAPI:
    app = FastAPI()

    @app.get("/api/campaigns/{cid}/events")
    async def events(cid: str) -> StreamingResponse:
        async def beats() -> AsyncIterator[bytes]:
            while True:  # like a running campaign: a heartbeat until the client leaves
                yield f"event: stats\ndata: {cid}\n\n".encode()
                await asyncio.sleep(0.5)

        return StreamingResponse(beats(), media_type="text/event-stream")

    @app.get("/api/{path:path}")
    async def read(path: str) -> dict[str, str]:
        return {"path": path}

    return app


@pytest.fixture(scope="module")
def upstream() -> Iterator[Served]:
    served = Served(streaming_upstream())
    yield served
    served.stop()


@pytest.fixture
def gateway(make_settings, make_client, sign_in, create_key, upstream):
    """Start a real gateway; returns (url, key of person A, cookie of person B)."""
    started: list[Served] = []

    def start(**overrides: Any) -> tuple[str, dict[str, str], dict[str, str]]:
        wiring = {f"{s}_url": upstream.url for s in ("ingest", "campaign", "delivery", "ai")}
        settings = make_settings(**wiring, **overrides)
        helper = make_client(**wiring, **overrides)
        sign_in(helper, "a@example.com")
        key = create_key(helper, ["read"])
        other = make_client(**wiring, **overrides)
        sign_in(other, "b@example.com")
        served = Served(create_app(settings), proxy_headers=False)
        started.append(served)
        cookie = {"Cookie": f"mcrm_session={other.cookies['mcrm_session']}"}
        return served.url, {"Authorization": f"Bearer {key}"}, cookie

    yield start
    for served in started:
        served.stop()


# The body iterators of the streams a test holds open. An iterator dropped after its
# first chunk is closed whenever the garbage collector gets to it, and closing it closes
# the stream: the gateway then rightly frees its slot, and a later stream gets one.
_held: list[AsyncIterator[bytes]] = []


async def _open(http: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    response = await http.send(
        http.build_request("GET", "/api/campaigns/c1/events", headers=headers), stream=True
    )
    if response.status_code == 200:
        chunks = response.aiter_raw()
        _held.append(chunks)
        await anext(chunks)  # the stream is really open end to end
    return response


@pytest.fixture(autouse=True)
def _let_go_of_streams() -> Iterator[None]:
    yield
    _held.clear()


async def _timed_get(url: str, headers: dict[str, str]) -> tuple[int, float]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as fresh:
        started = time.perf_counter()
        response = await fresh.get("/api/campaigns", headers=headers)
        return response.status_code, time.perf_counter() - started


def test_600_streams_from_one_key_leave_other_people_answered_within_a_second(gateway):
    url, key, other = gateway()

    async def run() -> None:
        limits = httpx.Limits(max_connections=700, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
            opened = await asyncio.gather(*[_open(http, key) for _ in range(600)])
            try:
                statuses = Counter(r.status_code for r in opened)
                assert statuses == {200: 20, 429: 580}, statuses
                refused = next(r for r in opened if r.status_code == 429)
                await refused.aread()
                assert refused.json()["error"]["code"] == "rate_limited"
                assert refused.headers["retry-after"]
                for _ in range(3):
                    status, seconds = await _timed_get(url, other)
                    assert status == 200 and seconds < 1.0, seconds
                    status, seconds = await _timed_get(url, key)
                    assert status == 200 and seconds < 1.0, seconds
                async with httpx.AsyncClient(base_url=url, timeout=10) as fresh:
                    theirs = await _open(fresh, other)  # the cap is per person
                    assert theirs.status_code == 200
                    await theirs.aclose()
            finally:
                await asyncio.gather(*[r.aclose() for r in opened])

    run_in_own_loop(run)


def test_open_streams_never_take_the_connections_ordinary_requests_need(gateway):
    # The ordinary pool is tiny and the cap is high: only a separate pool keeps requests
    # answered while the streams hold their connections.
    url, key, other = gateway(upstream_max_connections=4, stream_max_per_person=500)

    async def run() -> None:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
            opened = await asyncio.gather(*[_open(http, key) for _ in range(50)])
            try:
                assert {r.status_code for r in opened} == {200}
                for _ in range(5):  # more than the 4 connections of the ordinary pool
                    status, seconds = await _timed_get(url, other)
                    assert status == 200 and seconds < 1.0, seconds
            finally:
                await asyncio.gather(*[r.aclose() for r in opened])

    run_in_own_loop(run)


def test_a_stream_ends_at_its_lifetime_and_a_closed_stream_frees_its_slot(gateway):
    url, key, _ = gateway(stream_max_lifetime_s=1.0, stream_max_per_person=1)

    async def run() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            started = time.perf_counter()
            request = http.build_request("GET", "/api/campaigns/c1/events", headers=key)
            first = await http.send(request, stream=True)
            chunks = first.aiter_raw()
            assert first.status_code == 200 and await anext(chunks)
            second = await _open(http, key)
            assert second.status_code == 429  # the one slot is taken
            await second.aclose()
            async for _ in chunks:  # ends by itself: the lifetime ran out
                pass
            await first.aclose()
            assert 0.8 < time.perf_counter() - started < 5

            async def reopened() -> bool:
                again = await _open(http, key)
                await again.aclose()  # a client leaving early frees the slot too
                return again.status_code == 200

            for _ in range(2):
                deadline = time.monotonic() + 5
                while not await reopened():
                    assert time.monotonic() < deadline, "the slot was never freed"
                    await asyncio.sleep(0.1)

    run_in_own_loop(run)
