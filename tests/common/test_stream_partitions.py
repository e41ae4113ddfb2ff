"""The stream runtime on one Redis (plain names, as before partitions) and on a six-node
Redis Cluster with four hash-tagged partitions: sharing, pending drain, claims, the
dead-letter MULTI and the graceful stop must hold on both."""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from libs.common.errors import PermanentError
from libs.common.events.base import encode
from libs.common.redis_client import is_cluster_url
from libs.common.streams import (
    StreamConsumer,
    StreamLayout,
    StreamProducer,
    dlq_name,
    ensure_group,
    partitioned_overview,
    replay_partitions,
)
from libs.common.streams.consumer import ConsumerConfig
from libs.common.testing.pytest_plugin import wait_until
from tests.support.demo_worker import DemoEvent

pytestmark = pytest.mark.integration


@dataclass
class Target:
    client: redis.Redis
    url: str
    layout: StreamLayout

    @property
    def names(self) -> list[str]:
        return self.layout.partitions("demo")

    def publish(self, count: int, start: int = 0) -> None:
        producer = StreamProducer(self.client, layout=self.layout)
        producer.publish([DemoEvent(n=i) for i in range(start, start + count)])

    def consumer(self, handler: Callable[[Any], None], name: str, **overrides: Any):
        settings: dict[str, Any] = {"batch_size": 10, **overrides}
        config = ConsumerConfig(
            stream="demo", group="g", consumer=name, partitions=self.names, **settings
        )
        return StreamConsumer(self.client, config, {DemoEvent: handler})

    def ensure_groups(self) -> None:
        for name in self.names:
            ensure_group(self.client, name, "g")

    def recorder(self, batch_size: int) -> tuple[StreamConsumer, list[list[int]]]:
        """A consumer that notes the numbers of each batch it is handed."""
        calls: list[list[int]] = []
        consumer = self.consumer(
            lambda evs: calls.append([e.n for e in evs]), "solo", batch_size=batch_size
        )
        self.ensure_groups()
        return consumer, calls

    def pending(self) -> int:
        return sum(int(self.client.xpending(n, "g")["pending"]) for n in self.names)

    def env(self, base: dict[str, str]) -> dict[str, str]:
        return {**base, "REDIS_URL": self.url, "STREAM_PARTITIONS": str(len(self.names))}


@pytest.fixture(params=["single-node", "cluster-4-partitions"])
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "single-node":
        client = request.getfixturevalue("redis_client")
        return Target(client, request.getfixturevalue("redis_url"), StreamLayout())
    cluster = request.getfixturevalue("redis_cluster")
    client = request.getfixturevalue("cluster_client")
    return Target(client, cluster.url, StreamLayout(default=4, tagged=True))


def test_single_node_keeps_todays_names_and_the_cluster_gets_hash_tagged_partitions(target):
    if is_cluster_url(target.url):
        assert target.names == ["{demo:0}", "{demo:1}", "{demo:2}", "{demo:3}"]
        slots = {target.client.keyslot(n) for n in target.names}  # type: ignore[attr-defined]
        assert len(slots) == 4
        for name in target.names:
            # the partition, its DLQ and its error hash: one slot, so one MULTI
            same = {name, dlq_name(name), f"streamerr:{name}:g"}
            assert len({target.client.keyslot(k) for k in same}) == 1  # type: ignore[attr-defined]
    else:
        assert target.names == ["demo"]
        assert dlq_name("demo") == "demo.dlq"


def test_two_consumers_share_every_partition_without_overlap(target):
    target.publish(200)
    lengths = [int(target.client.xlen(n)) for n in target.names]
    assert sum(lengths) == 200 and all(lengths), "every partition carries entries"
    seen: dict[str, list[int]] = {"a": [], "b": []}
    a = target.consumer(lambda evs: seen["a"].extend(e.n for e in evs), "a")
    b = target.consumer(lambda evs: seen["b"].extend(e.n for e in evs), "b")
    for name in target.names:
        ensure_group(target.client, name, "g")
    while a.read_new(block_ms=10) + b.read_new(block_ms=10):
        pass
    assert seen["a"] and seen["b"], "both consumers get work"
    assert set(seen["a"]).isdisjoint(seen["b"])
    assert sorted(seen["a"] + seen["b"]) == list(range(200))
    assert target.pending() == 0


def test_one_pass_over_the_partitions_is_handed_over_as_one_batch(target):
    target.publish(40)
    c, calls = target.recorder(batch_size=40)
    assert c.read_new(block_ms=10) == 40
    assert len(calls) == 1, "one handler call for what every partition held"
    assert sorted(calls[0]) == list(range(40))
    assert target.pending() == 0


def test_a_pass_stops_at_the_batch_size_and_keeps_each_partitions_order(target):
    target.publish(40)
    c, calls = target.recorder(batch_size=7)
    while c.read_new(block_ms=10):
        pass
    assert all(len(call) <= 7 for call in calls)
    assert sorted(n for call in calls for n in call) == list(range(40))
    for name in target.names:
        home = [n for n in range(40) if target.layout.partition("demo", str(n)) == name]
        assert [n for call in calls for n in call if n in home] == home
    assert target.pending() == 0


def test_equal_entry_ids_on_two_partitions_are_acked_and_dead_lettered_apart(target):
    if len(target.names) == 1:
        pytest.skip("one partition: entry ids are unique")
    target.ensure_groups()
    good, poison = target.names[:2]
    for name, n in ((good, 1), (poison, 13)):
        target.client.xadd(name, encode(DemoEvent(n=n)), id="5-1")
    handled: list[int] = []

    def handler(events):
        if any(e.n == 13 for e in events):
            raise PermanentError("13 is refused")
        handled.extend(e.n for e in events)

    c = target.consumer(handler, "solo", batch_size=10)
    assert c.read_new(block_ms=10) == 2
    assert handled == [1]
    assert target.client.xlen(dlq_name(good)) == 0
    [(_, dead)] = target.client.xrange(dlq_name(poison))
    assert dead[b"source_id"] == b"5-1" and dead[b"source_stream"] == poison.encode()
    assert target.pending() == 0


def test_a_poison_entry_goes_to_its_own_partitions_dlq_and_the_rest_are_acked(target):
    target.publish(20)
    handled: list[int] = []

    def handler(events):
        if any(e.n == 7 for e in events):
            raise RuntimeError("boom: cannot handle 7")
        handled.extend(e.n for e in events)

    c = target.consumer(handler, "solo", visibility_timeout_ms=0, max_deliveries=3)
    c.run(burst=True)
    assert sorted(handled) == [n for n in range(20) if n != 7]
    home = target.layout.partition("demo", "7")
    dead = target.client.xrange(dlq_name(home))
    assert len(dead) == 1
    assert b"boom: cannot handle 7" in dead[0][1][b"error"]
    assert dead[0][1][b"source_stream"] == home.encode()
    others = [n for n in target.names if n != home]
    assert all(target.client.xlen(dlq_name(n)) == 0 for n in others)
    assert target.pending() == 0
    # replayed into the partition it came from, then handled once the bug is "fixed"
    assert replay_partitions(target.client, "demo", target.layout) == 1
    target.consumer(lambda evs: handled.extend(e.n for e in evs), "solo").run(burst=True)
    assert sorted(handled) == list(range(20))


def test_own_pending_entries_of_every_partition_are_drained_on_restart(target):
    target.publish(12)
    for name in target.names:
        ensure_group(target.client, name, "g")
        # a previous life of "w1" read them and died before acking
        target.client.xreadgroup("g", "w1", {name: ">"}, count=100)
    assert target.pending() == 12
    handled: list[int] = []
    target.consumer(lambda evs: handled.extend(e.n for e in evs), "w1").drain_own_pending()
    assert sorted(handled) == list(range(12))
    assert target.pending() == 0


def test_entries_of_a_dead_consumer_are_claimed_from_every_partition(target):
    target.publish(12)
    for name in target.names:
        ensure_group(target.client, name, "g")
        target.client.xreadgroup("g", "dead", {name: ">"}, count=100)
    handled: list[int] = []
    rescuer = target.consumer(
        lambda evs: handled.extend(e.n for e in evs), "rescuer", visibility_timeout_ms=0
    )
    assert rescuer.claim_idle() == 12
    assert sorted(handled) == list(range(12))
    assert target.pending() == 0


def test_sigterm_during_a_batch_finishes_acks_and_exits_zero(target, clean_env, spawn):
    target.client.set("demo:batch_size", 10)
    target.publish(10)
    worker = spawn(
        "worker",
        env=target.env(clean_env.env()),
        module="tests.support.demo_worker",
        args=["demo", "g", "slow"],
    )
    wait_until(lambda: target.client.llen("demo:started") >= 1, timeout=20)
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=20) == 0
    started = target.client.llen("demo:started")
    assert target.client.llen("demo:handled") == started, "the batch in hand completed"
    assert target.pending() == 0, "and was acked"


def test_overview_sums_partitions_and_names_the_node_of_each(target):
    target.publish(8)
    for name in target.names:
        ensure_group(target.client, name, "g")
        target.client.xreadgroup("g", "c1", {name: ">"}, count=1)
    [row] = partitioned_overview(target.client, ("demo",), target.layout)
    assert row["stream"] == "demo" and row["length"] == 8
    [group] = row["groups"]
    assert group["pending"] == len(target.names)
    assert group["lag"] == 8 - len(target.names)
    assert [p["stream"] for p in row["partitions"]] == target.names
    nodes = {p["node"] for p in row["partitions"]}
    if is_cluster_url(target.url):
        assert len(nodes) >= 2, "partitions spread over the shards"
    else:
        assert nodes == {target.url.split("//")[1].rsplit("/", 1)[0]}
