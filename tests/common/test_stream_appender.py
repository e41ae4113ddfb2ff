"""The request handlers' stream appender against real Redis: ids, order, sharing one
connection, reply errors, timeouts, lost connections and credentials from the URL."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from redis import exceptions as redis_errors

from libs.common.streams.appender import StreamAppender, xadd_command
from tests.support.restartable import redis_with_aof

pytestmark = pytest.mark.integration


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    """In a thread of its own with a fresh loop: another fixture may hold this one's."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(scenario())).result()  # type: ignore[arg-type]


def test_the_wire_format_is_what_redis_parses():
    assert xadd_command("s", {"a": b"1"}, None) == (
        b"*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\na\r\n$1\r\n1\r\n"
    )
    assert b"$6\r\nMAXLEN\r\n$1\r\n~\r\n$3\r\n100\r\n" in xadd_command("s", {"a": b"1"}, 100)


def test_appends_answer_the_ids_of_entries_holding_those_fields(redis_client, redis_url):
    async def scenario() -> list[str]:
        appender = StreamAppender(redis_url)
        try:
            return await appender.append(
                "s", [{"type": b"t", "data": b'{"n":1}'}, {b"type": b"t", b"data": b"\x00\xff"}]
            )
        finally:
            await appender.aclose()

    ids = run(scenario)
    entries = redis_client.xrange("s")
    assert [e[0].decode() for e in entries] == ids
    assert [e[1] for e in entries] == [
        {b"type": b"t", b"data": b'{"n":1}'},
        {b"type": b"t", b"data": b"\x00\xff"},
    ]


def test_concurrent_callers_share_one_connection_and_each_gets_its_own_ids(redis_client, redis_url):
    async def scenario() -> dict[str, list[int]]:
        appender = StreamAppender(redis_url, name="appender-test")

        async def caller(n: int) -> tuple[list[str], int]:
            entries = [{"n": str(n).encode(), "i": str(i).encode()} for i in range(n % 3 + 1)]
            return await appender.append("s", entries), n

        answers = await asyncio.gather(*(caller(n) for n in range(300)))
        mine = [c for c in redis_client.client_list() if c.get("name") == "appender-test"]
        assert len(mine) == 1, "one connection for every caller"
        await appender.aclose()
        return {entry_id: [n] for ids, n in answers for entry_id in ids}

    owner = run(scenario)
    entries = redis_client.xrange("s")
    assert len(entries) == len(owner) == sum(n % 3 + 1 for n in range(300))
    for entry_id, fields in entries:
        assert owner[entry_id.decode()] == [int(fields[b"n"])]


def test_maxlen_caps_the_stream(redis_client, redis_url):
    async def scenario() -> None:
        appender = StreamAppender(redis_url)
        for _ in range(20):
            await appender.append("s", [{"x": b"1"}] * 100, maxlen=50)
        await appender.aclose()

    run(scenario)
    assert redis_client.xlen("s") < 300  # approximate trimming, whole nodes of 100


def test_a_reply_error_is_raised_and_the_connection_stays_usable(redis_client, redis_url):
    redis_client.set("not-a-stream", "x")

    async def scenario() -> list[str]:
        appender = StreamAppender(redis_url)
        with pytest.raises(redis_errors.ResponseError, match="WRONGTYPE"):
            await appender.append("not-a-stream", [{"x": b"1"}])
        ids = await appender.append("s", [{"x": b"2"}])
        await appender.aclose()
        return ids

    assert len(run(scenario)) == 1
    assert redis_client.xlen("s") == 1


def test_no_answer_in_time_fails_with_a_timeout_then_the_next_call_reconnects(
    redis_client, redis_url
):
    async def scenario() -> float:
        appender = StreamAppender(redis_url, timeout_s=0.3)
        await appender.append("s", [{"x": b"1"}])
        redis_client.execute_command("CLIENT", "PAUSE", "1500", "WRITE")
        started = time.monotonic()
        with pytest.raises(redis_errors.TimeoutError):
            await appender.append("s", [{"x": b"2"}])
        waited = time.monotonic() - started
        redis_client.execute_command("CLIENT", "UNPAUSE")
        await appender.append("s", [{"x": b"3"}])
        await appender.aclose()
        return waited

    assert 0.25 <= run(scenario) < 1.2
    values = {fields[b"x"] for _id, fields in redis_client.xrange("s")}
    assert {b"1", b"3"} <= values  # "2" may or may not have been added after its timeout


def test_a_redis_restart_fails_only_the_calls_in_between(tmp_path):
    server = redis_with_aof(tmp_path / "redis")
    server.start()
    url = f"redis://127.0.0.1:{server.port}/0"

    async def scenario() -> list[str]:
        appender = StreamAppender(url, connect_timeout_s=1)
        await appender.append("s", [{"x": b"1"}])
        server.stop()
        with pytest.raises(redis_errors.ConnectionError):
            await appender.append("s", [{"x": b"2"}])
        server.start()
        ids = await appender.append("s", [{"x": b"3"}])
        await appender.aclose()
        return ids

    try:
        assert len(run(scenario)) == 1
        client = redis.Redis.from_url(url)
        assert [f[b"x"] for _id, f in client.xrange("s")] == [b"1", b"3"]
        client.close()
    finally:
        server.stop()


def test_user_password_and_database_come_from_the_url(redis_client, redis_url):
    user, password = f"appender-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    redis_client.acl_setuser(
        user, enabled=True, passwords=[f"+{password}"], keys=["*"], commands=["+@all"]
    )
    base = redis_url.rsplit("/", 1)[0].replace("redis://", f"redis://{user}:{password}@")

    async def scenario(url: str) -> None:
        appender = StreamAppender(url)
        try:
            await appender.append("s", [{"x": b"1"}])
        finally:
            await appender.aclose()

    try:
        run(lambda: scenario(f"{base}/7"))
        other = redis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/7")
        assert other.xlen("s") == 1
        other.delete("s")
        other.close()
        wrong = base.replace(password, "wrong")
        with pytest.raises(redis_errors.AuthenticationError):
            run(lambda: scenario(f"{wrong}/7"))
    finally:
        redis_client.acl_deluser(user)


def test_nothing_listening_is_a_connection_error():
    async def scenario() -> None:
        appender = StreamAppender("redis://127.0.0.1:1/0", connect_timeout_s=1)
        await appender.append("s", [{"x": b"1"}])

    with pytest.raises(redis_errors.ConnectionError):
        run(scenario)
