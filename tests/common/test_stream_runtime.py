"""The stream runtime against real Redis: sharing, reclaiming, dead-lettering, stopping."""

from __future__ import annotations

import os
import signal
import threading
import time

import orjson
import pytest
import redis

from libs.common.errors import PermanentError
from libs.common.streams import StreamConsumer, StreamProducer, dlq_name, ensure_group
from libs.common.streams.admin import safe_trim, stream_overview
from libs.common.streams.consumer import ConsumerConfig
from libs.common.testing.pytest_plugin import wait_until
from tests.support.demo_worker import DemoEvent, DemoNote

pytestmark = pytest.mark.integration


def publish(client: redis.Redis, count: int, start: int = 0) -> None:
    StreamProducer(client).publish([DemoEvent(n=i) for i in range(start, start + count)])


def consumer(client: redis.Redis, handler, name: str, **overrides) -> StreamConsumer:
    config = ConsumerConfig(stream="demo", group="g", consumer=name, batch_size=10, **overrides)
    return StreamConsumer(client, config, {DemoEvent: handler})


def test_entry_is_readable_json_with_type_and_data(redis_client):
    publish(redis_client, 1)
    [(_id, fields)] = redis_client.xrange("demo")
    assert fields[b"type"] == b"demo.item.v1"
    assert orjson.loads(fields[b"data"]) == {"n": 0}


def test_two_consumers_in_one_group_share_the_stream_without_overlap(redis_client):
    publish(redis_client, 200)
    seen: dict[str, list[int]] = {"a": [], "b": []}
    a = consumer(redis_client, lambda evs: seen["a"].extend(e.n for e in evs), "a")
    b = consumer(redis_client, lambda evs: seen["b"].extend(e.n for e in evs), "b")
    ensure_group(redis_client, "demo", "g")
    while a.read_new(block_ms=10) + b.read_new(block_ms=10):
        pass
    assert seen["a"] and seen["b"], "both consumers must get work"
    assert set(seen["a"]).isdisjoint(seen["b"])
    assert sorted(seen["a"] + seen["b"]) == list(range(200))
    assert redis_client.xpending("demo", "g")["pending"] == 0


def test_handler_that_always_raises_dead_letters_after_max_deliveries(redis_client):
    publish(redis_client, 1)
    publish(redis_client, 1, start=1)
    handled: list[int] = []

    def handler(events):
        for event in events:
            if event.n == 0:
                raise RuntimeError("boom: cannot handle 0")
            handled.append(event.n)

    c = consumer(redis_client, handler, "solo", visibility_timeout_ms=0, max_deliveries=3)
    c.run(burst=True)
    assert handled == [1], "the good neighbour is handled and acked despite the poison entry"
    dead = redis_client.xrange(dlq_name("demo"))
    assert len(dead) == 1
    fields = dead[0][1]
    assert b"boom: cannot handle 0" in fields[b"error"]
    assert int(fields[b"deliveries"]) > 3
    assert redis_client.xpending("demo", "g")["pending"] == 0
    publish(redis_client, 1, start=2)
    c.run(burst=True)
    assert handled == [1, 2], "the group moves on"


def test_permanent_error_dead_letters_at_once(redis_client):
    publish(redis_client, 3)

    def handler(events):
        if any(e.n == 1 for e in events):
            raise PermanentError("bad data in 1")

    c = consumer(redis_client, handler, "solo")
    c.run(burst=True)
    dead = redis_client.xrange(dlq_name("demo"))
    assert [orjson.loads(f[b"data"])["n"] for _, f in dead] == [1]
    assert int(dead[0][1][b"deliveries"]) == 1


def test_unknown_entry_type_is_dead_lettered_not_retried(redis_client):
    redis_client.xadd("demo", {"type": "nope.v1", "data": "{}"})
    consumer(redis_client, lambda evs: None, "solo").run(burst=True)
    assert redis_client.xlen(dlq_name("demo")) == 1
    assert redis_client.xpending("demo", "g")["pending"] == 0


def test_own_pending_entries_are_drained_on_restart(redis_client):
    publish(redis_client, 5)
    ensure_group(redis_client, "demo", "g")
    # A previous life of consumer "w1" read the entries but died before acking.
    redis_client.xreadgroup("g", "w1", {"demo": ">"}, count=5)
    handled: list[int] = []
    c = consumer(redis_client, lambda evs: handled.extend(e.n for e in evs), "w1")
    c.run(burst=True)
    assert sorted(handled) == list(range(5))
    assert redis_client.xpending("demo", "g")["pending"] == 0


def test_entries_trimmed_while_pending_are_acked_and_skipped(redis_client):
    publish(redis_client, 3)
    ensure_group(redis_client, "demo", "g")
    redis_client.xreadgroup("g", "dead", {"demo": ">"}, count=3)
    first = redis_client.xrange("demo", count=1)[0][0]
    redis_client.xdel("demo", first)
    handled: list[int] = []
    c = consumer(
        redis_client, lambda evs: handled.extend(e.n for e in evs), "w", visibility_timeout_ms=0
    )
    c.run(burst=True)
    assert sorted(handled) == [1, 2]
    assert redis_client.xpending("demo", "g")["pending"] == 0


def test_safe_trim_never_drops_unacked_entries(redis_client):
    publish(redis_client, 300)
    ensure_group(redis_client, "demo", "g")
    redis_client.xreadgroup("g", "slowpoke", {"demo": ">"}, count=10)  # 10 pending
    safe_trim(redis_client, "demo")
    assert redis_client.xlen("demo") == 300
    # Once acked and read, everything older than what is still needed can go.
    ids = [i for i, _ in redis_client.xrange("demo", count=10)]
    redis_client.xack("demo", "g", *ids)
    redis_client.xreadgroup("g", "fast", {"demo": ">"}, count=200)
    pending = redis_client.xpending("demo", "g")
    safe_trim(redis_client, "demo")
    remaining = [i for i, _ in redis_client.xrange("demo")]
    assert pending["min"] in remaining  # the oldest unacked entry survives
    assert len(remaining) <= 300


def test_stream_overview_reports_groups_lag_pending_and_dlq(redis_client):
    publish(redis_client, 4)
    ensure_group(redis_client, "demo", "g")
    redis_client.xreadgroup("g", "c1", {"demo": ">"}, count=1)
    [overview] = stream_overview(redis_client, ("demo",))
    assert overview["length"] == 4
    [group] = overview["groups"]
    assert group["pending"] == 1 and group["lag"] == 3
    assert group["consumers"][0]["name"] == "c1"
    assert overview["dlq"] == {"stream": "demo.dlq", "length": 0}


def test_sigkilled_consumer_entries_are_reclaimed_by_another(clean_env, spawn):
    client = clean_env.redis
    client.set("demo:batch_size", 20)
    publish(client, 20)
    env = clean_env.env(STREAM_VISIBILITY_TIMEOUT_MS="1000", STREAM_CLAIM_INTERVAL_S="0.5")
    victim = spawn(
        "victim", env=env, module="tests.support.demo_worker", args=["demo", "g", "slow"]
    )
    wait_until(lambda: client.llen("demo:started") >= 20, timeout=20)
    victim.kill()  # SIGKILL mid-batch: nothing acked
    assert client.llen("demo:handled") == 0
    assert client.xpending("demo", "g")["pending"] == 20
    rescuer = spawn(
        "rescuer", env=env, module="tests.support.demo_worker", args=["demo", "g", "record"]
    )
    wait_until(lambda: client.xpending("demo", "g")["pending"] == 0, timeout=30)
    handled = sorted(int(x) for x in client.lrange("demo:handled", 0, -1))
    assert handled == list(range(20)), "every entry handled after reclaim, none lost"
    assert rescuer.stop() == 0


def test_sigterm_during_a_batch_finishes_acks_and_exits_zero(clean_env, spawn):
    client = clean_env.redis
    client.set("demo:batch_size", 10)
    publish(client, 10)
    worker = spawn(
        "worker",
        env=clean_env.env(),
        module="tests.support.demo_worker",
        args=["demo", "g", "slow"],
    )
    wait_until(lambda: client.llen("demo:started") >= 10, timeout=20)
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=20) == 0
    assert client.llen("demo:handled") == 10, "the batch in hand completed"
    assert client.xpending("demo", "g")["pending"] == 0, "and was acked"


def test_consumer_recreates_a_missing_group(redis_client):
    publish(redis_client, 2)
    handled: list[int] = []
    c = consumer(redis_client, lambda evs: handled.extend(e.n for e in evs), "w")
    c.run(burst=True)
    redis_client.xgroup_destroy("demo", "g")
    publish(redis_client, 1, start=2)
    c.run(burst=True)
    assert 2 in handled


def test_worker_survives_time_without_entries(redis_client):
    c = consumer(redis_client, lambda evs: None, "idle")
    started = time.monotonic()
    assert c.run(burst=True) == 0
    assert time.monotonic() - started < 5


def _nice_of(pid: int) -> int:
    # /proc/<pid>/stat: field 19 is the nice value; the name in () may hold spaces
    return int(open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[16])


@pytest.mark.parametrize("setting, expected", [(None, 5), ("0", 0), ("11", 11)])
def test_workers_yield_the_cpu_to_apis_by_worker_nice(clean_env, spawn, setting, expected):
    client = clean_env.redis
    publish(client, 1)
    # "" counts as unset (env_ignore_empty), so the default applies whatever the shell has
    env = clean_env.env(WORKER_NICE=setting if setting is not None else "")
    worker = spawn("w", env=env, module="tests.support.demo_worker", args=["demo", "g", "record"])
    wait_until(lambda: client.llen("demo:handled") == 1, timeout=20)
    assert _nice_of(worker.proc.pid) - _nice_of(os.getpid()) == expected
    assert worker.stop() == 0


@pytest.mark.parametrize("linger_ms, batches", [(400, [1, 5]), (0, [1, 1, 1, 1, 1, 1])])
def test_after_a_short_read_a_lingering_consumer_gathers_a_trickle_into_one_batch(
    redis_client, linger_ms, batches
):
    """Five entries 40 ms apart, the first sent once the consumer handled a first one:
    with a linger they are one batch (one bulk write), without it one batch each."""
    seen: list[int] = []
    c = consumer(redis_client, lambda evs: trickle(len(evs)), "lingering", linger_ms=linger_ms)

    def trickle(size: int) -> None:
        seen.append(size)
        if len(seen) == 1:
            threading.Thread(target=send_five, daemon=True).start()
        if sum(seen) == 6:
            c.stop()

    def send_five() -> None:
        for i in range(5):
            publish(redis_client, 1, start=1 + i)
            time.sleep(0.04)

    ensure_group(redis_client, "demo", "g")
    publish(redis_client, 1)
    runner = threading.Thread(target=c.run)
    runner.start()
    runner.join(timeout=20)
    assert seen == batches


def test_a_handler_registered_for_two_types_gets_their_consecutive_entries_in_one_run(
    redis_client,
):
    mixed = [DemoEvent(n=0), DemoNote(text="a"), DemoEvent(n=1), DemoNote(text="b")]
    StreamProducer(redis_client).publish(mixed)
    runs: list[list[str]] = []

    def shared(events):
        runs.append([type(e).__name__ for e in events])

    config = ConsumerConfig(stream="demo", group="g", consumer="c1", batch_size=10)
    StreamConsumer(redis_client, config, {DemoEvent: shared, DemoNote: shared}).run(burst=True)
    assert runs == [["DemoEvent", "DemoNote", "DemoEvent", "DemoNote"]]

    StreamProducer(redis_client).publish(mixed)
    runs.clear()
    separate = {DemoEvent: lambda events: shared(events), DemoNote: shared}
    StreamConsumer(redis_client, config, separate).run(burst=True)
    assert runs == [["DemoEvent"], ["DemoNote"], ["DemoEvent"], ["DemoNote"]]
