"""The campaign of the audience phase again, on a six-node Redis Cluster.

Six cluster-mode redis-servers (three masters, three replicas) on this machine, every
service pointed at them with ``redis+cluster://`` and four partitions per stream, the
same databases and the same campaign size as ``campaign_1m_messages_per_s``: what the
cluster costs on one box (the figure beside it is the single-node one of the same run).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from bench import campaign, preview
from bench.cpu import PhaseCpu
from bench.infra import STACK_ENV, Infra
from bench.report import Figure
from libs.common.testing.cluster import local_redis_cluster
from tests.support.stack import running_stack

PARTITIONS = 4
KEY = "cluster_campaign_messages_per_s"


def throughput(infra: Infra, size: int, deadline_s: float, servers: dict[str, int]) -> list[Figure]:
    """``servers``: the database servers' pids, accounted for beside the stack's."""
    prefix = "bench_clu_"
    # loaded before the stack starts: the ingest API's read model loads them at start
    preview.load_customers(infra.mongo_uri, f"{prefix}ingest", size)
    with (
        # no append-only files, as the single-node figure's redis-server keeps none
        local_redis_cluster(infra.workdir / "redis-cluster", aof=False) as cluster,
        running_stack(
            redis_url=cluster.url,
            mongo_uri=infra.mongo_uri,
            db_prefix=prefix,
            logdir=infra.workdir / "logs-cluster",
            extra_env={
                **STACK_ENV,
                "DELIVERY_MONGODB_URI": infra.delivery_mongo_uri,
                "STREAM_PARTITIONS": str(PARTITIONS),
            },
        ) as running,
    ):
        _wait_for_read_model(running.layout.url("ingest"), size, timeout_s=600)
        _wait_for_snapshot(running.env.get("INGEST_SNAPSHOT_DIR", ""), timeout_s=300)
        # As in the audience phase: the segment worker restarts onto the API's snapshot
        # (its own load from the database at start competed with the API's).
        running.kill("segment-worker")
        running.start("segment-worker")
        time.sleep(10)
        phase_cpu = PhaseCpu(
            {**{k: p.pid for k, p in running.procs.items()}, **cluster.pids(), **servers}
        )
        run = campaign.run_campaign(running, size, deadline_s)
        cpu = phase_cpu.describe(top=10)
    if not os.environ.get("BENCH_KEEP_TMP"):
        shutil.rmtree(infra.workdir / "redis-cluster", ignore_errors=True)
    rate = run["finals"] / run["seconds"] if run["finals"] else None
    method = (
        f"six redis-servers in cluster mode on this machine (3 masters, 3 replicas; no "
        f"append-only file, as the single node), "
        f"STREAM_PARTITIONS={PARTITIONS}, the audience phase's databases and campaign size: "
        + campaign.describe(run, size)
        + " "
        + cpu
    )
    return [Figure(KEY, rate, "messages/s", method)]


def _wait_for_snapshot(directory: str, timeout_s: float) -> None:
    started = time.perf_counter()
    while directory and not any(Path(directory).glob("*.audience.pickle")):
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError("the ingest API wrote no snapshot of its read model")
        time.sleep(1)


def _wait_for_read_model(url: str, rows: int, timeout_s: float) -> None:
    started = time.perf_counter()
    while preview._model_rows(url) < rows:
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"the ingest read model did not load {rows:,} rows")
        time.sleep(1)
