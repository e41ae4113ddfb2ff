"""Clients survive a Redis restart: the first command after it reconnects, not fails."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from libs.common.redis_client import make_async_redis, make_redis
from tests.support.restartable import redis_with_aof

pytestmark = pytest.mark.integration


def test_sync_and_async_clients_reconnect_after_a_redis_restart(tmp_path):
    server = redis_with_aof(tmp_path / "redis")
    server.start()
    url = f"redis://127.0.0.1:{server.port}/0"
    try:
        sync_client = make_redis(url)
        sync_client.set("kept", "1")

        async def roundtrip_across_restart() -> list[bytes | None]:
            client = make_async_redis(url)
            await client.get("kept")  # a pooled connection now exists
            server.stop()
            time.sleep(0.5)
            server.start()
            pipe = client.pipeline(transaction=False)
            pipe.get("kept")
            pipe.incr("n")
            first = await client.get("kept")
            piped = await pipe.execute()
            await client.aclose()
            return [first, piped[0]]

        # Its own thread and loop: another fixture may hold this thread's loop running.
        with ThreadPoolExecutor(1) as pool:
            result = pool.submit(asyncio.run, roundtrip_across_restart()).result()
        assert result == [b"1", b"1"], "AOF kept the data"
        assert sync_client.get("kept") == b"1"
    finally:
        server.stop()
