"""The campaign flow on a six-node Redis Cluster with four partitions per stream, and a
master killed (SIGKILL) in the middle of a 20,000-recipient campaign.

The cluster is this module's own (the failover test kills one of its nodes), started
and removed here; every service runs as a real process with
``REDIS_URL=redis+cluster://...`` and ``STREAM_PARTITIONS=4``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from libs.common.redis_client import make_redis
from libs.common.streams import ALL_STREAMS, StreamLayout
from libs.common.testing.cluster import RedisClusterProcs, local_redis_cluster
from libs.common.testing.pytest_plugin import wait_until
from tests.e2e.test_campaign_flow import (
    assert_exact_delivery,
    eligible,
    ingest,
    launch,
    make_customers,
    wait_completed,
    wait_for_customers,
)
from tests.support.stack import RunningStack, running_stack

pytestmark = pytest.mark.e2e

PARTITIONS = 4
FIRST = 3_000
FAILOVER_AUDIENCE = 20_000
_ids = itertools.count()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterProcs]:
    with local_redis_cluster(tmp_path_factory.mktemp("e2e-cluster")) as running:
        yield running


@pytest.fixture(scope="module")
def cluster_stack(
    cluster: RedisClusterProcs, mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    logdir: Path = tmp_path_factory.mktemp("cluster-stack-logs")
    with running_stack(
        redis_url=cluster.url,
        mongo_uri=mongo_uri,
        db_prefix=f"e2ecluster{next(_ids)}_",
        logdir=logdir,
        extra_env={"STREAM_PARTITIONS": str(PARTITIONS)},
    ) as running:
        yield running


def wait_rows_written(client, campaign_id: str, audience: int, timeout: float = 120) -> None:
    """Campaign stats turn final (the campaign's tally) while delivery may still write
    its rows (another group on the receipt stream); rows are paged by id, so wait for all
    of them, none still 'sent', before reading them page by page."""

    def total(**params: str) -> int:
        path = f"/api/campaigns/{campaign_id}/communications"
        return int(client.get(path, params={"pageSize": 1, **params}).json()["total"])

    wait_until(lambda: total() == audience and total(status="sent") == 0, timeout, 0.5)


def vendor_stats(stack: RunningStack) -> dict:
    """What the vendor itself saw: the outside check that nobody got a message twice."""
    return httpx.get(f"{stack.layout.url('vendor_sim')}/vendor/stats", timeout=10).json()


def test_campaign_on_a_cluster_with_four_partitions_reaches_everyone_once(
    cluster: RedisClusterProcs, cluster_stack: RunningStack
):
    client = cluster_stack.client()
    ingest(client, make_customers(FIRST))
    # an Idempotency-Key (a key in Redis) on the cluster: the retry gets the first answer
    again = make_customers(1, start=1)[0]  # one of the above: no new customer
    answers = [
        client.post("/api/customers", json=again, headers={"Idempotency-Key": "cluster-k1"})
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    wait_for_customers(client, FIRST)
    rules = {
        "operator": "AND",
        "conditions": [{"field": "totalSpends", "operator": ">", "value": "10000"}],
    }
    expected = len([i for i in range(FIRST) if i % 3 == 0])
    preview = client.post("/api/customers/preview", json={"rules": rules}).json()
    assert preview["count"] == expected
    campaign = launch(client, "Cluster high value", rules)
    done = wait_completed(client, campaign["id"], timeout=180)
    assert done["audienceSize"] == expected
    wait_rows_written(client, campaign["id"], expected)
    assert_exact_delivery(client, campaign, expected)
    vendor = vendor_stats(cluster_stack)
    assert vendor["accepted"] == expected and vendor["duplicateClientRefs"] == 0, vendor

    # every stream really is four partitions, spread over the three masters
    redis = make_redis(cluster.url)
    layout = StreamLayout(default=PARTITIONS, tagged=True)
    for stream in ("ingest", "receipt"):  # send: only two chunks of 500 here
        lengths = [redis.xlen(name) for name in layout.partitions(stream)]
        assert all(lengths), f"{stream}: every partition carried entries {lengths}"
    assert not redis.exists(*ALL_STREAMS), "no unpartitioned stream was written"
    overview = client.get("/api/admin/streams").json()["streams"]
    send = next(row for row in overview if row["stream"] == "send")
    assert [p["stream"] for p in send["partitions"]] == layout.partitions("send")
    nodes = {p["node"] for row in overview for p in row["partitions"]}
    assert len(nodes) == 3, f"partitions on every master: {nodes}"


@pytest.mark.timeout(600)  # 20,000 customers in, 20,000 messages out, on a busy machine
def test_a_master_killed_mid_campaign_fails_over_and_nothing_is_lost_or_sent_twice(
    cluster: RedisClusterProcs, cluster_stack: RunningStack
):
    client = cluster_stack.client()
    ingest(client, make_customers(FAILOVER_AUDIENCE))  # the first ones again: upserts
    wait_for_customers(client, FAILOVER_AUDIENCE)
    rules = {
        "operator": "AND",
        "conditions": [{"field": "email", "operator": "contains", "value": "@example.com"}],
    }
    accepted_before = vendor_stats(cluster_stack)["accepted"]
    audience = eligible(client, rules, FAILOVER_AUDIENCE)
    campaign = launch(client, "Everyone, through a failover", rules)
    wait_until(
        lambda: client.get(f"/api/campaigns/{campaign['id']}/realtime").json()["sent"] > 2000,
        timeout=120,
        interval=0.1,
    )
    masters = cluster.masters()
    victim = masters[0]
    cluster.kill(victim)  # SIGKILL, mid-send
    # its replica is promoted: three masters again, every slot served
    cluster.wait_healthy(timeout=30)
    assert victim not in cluster.masters() and len(cluster.masters()) == 3
    wait_completed(client, campaign["id"], timeout=300)
    wait_rows_written(client, campaign["id"], audience)
    assert_exact_delivery(client, campaign, audience)
    vendor = vendor_stats(cluster_stack)
    assert vendor["accepted"] - accepted_before == audience, vendor
    assert vendor["duplicateClientRefs"] == 0, vendor
