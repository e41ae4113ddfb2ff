"""The harness's own Redis and database servers, and its own stack of services.

Everything lives under bench/tmp/ (git-ignored) on free ports, so a benchmark never
touches a developer's data or a running stack.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from libs.common.testing.servers import free_port, local_mongo, local_redis
from tests.support.stack import RunningStack, running_stack

ROOT = Path(__file__).resolve().parents[1]
TMP = ROOT / "bench" / "tmp"
CAMPAIGN_DB_DIR = "mongo-campaign"  # the journeys phase's campaign server (bench/run.py)


@dataclass
class Infra:
    redis_url: str
    mongo_uri: str
    redis_port: int
    mongo_port: int
    workdir: Path
    # Delivery's collections on a database server of their own (DELIVERY_MONGODB_URI):
    # nx-27017 runs one database's commands at a time and all of them on one
    # interpreter, so the other services' queries would queue in front of delivery's
    # two writes per message. The raw communication-row ceiling is measured there too.
    delivery_mongo_uri: str
    delivery_mongo_port: int

    def database_servers(self) -> dict[str, int]:
        """Name in the memory figures -> port of each nx-27017 the harness runs."""
        return {"nx-27017": self.mongo_port, "nx-27017-delivery": self.delivery_mongo_port}


@contextmanager
def infrastructure() -> Iterator[Infra]:
    """A fresh redis-server and two nx-27017 (one for delivery's collections, one for
    everything else) under bench/tmp/run-<time>/ (removed after)."""
    workdir = TMP / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    redis_port, mongo_port, delivery_port = free_port(), free_port(), free_port()
    try:
        with (
            local_redis(workdir / "redis", redis_port) as redis_url,
            local_mongo(workdir / "mongo", mongo_port) as mongo_uri,
            local_mongo(workdir / "mongo-delivery", delivery_port) as delivery_uri,
        ):
            yield Infra(
                redis_url, mongo_uri, redis_port, mongo_port, workdir, delivery_uri, delivery_port
            )
    finally:
        if not os.environ.get("BENCH_KEEP_TMP"):
            for name in ("mongo", "mongo-delivery", CAMPAIGN_DB_DIR, "redis"):
                shutil.rmtree(workdir / name, ignore_errors=True)


# Limits meant for people, not for a benchmark of the machinery behind them.
STACK_ENV = {
    "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),  # INFO: the stack's events
    "GATEWAY_RATE_LIMIT_INGEST_PER_S": "100000000",
    "DELIVERY_RATE_LIMIT_PER_S": "0",
    "DELIVERY_CAMPAIGN_RATE_LIMIT_PER_S": "0",
    "VENDOR_LATENCY_MS": "20",
    "VENDOR_LATENCY_JITTER_MS": "10",
    "VENDOR_SEED": "8",
}


@contextmanager
def stack(
    infra: Infra, db_prefix: str, extra_env: dict[str, str] | None = None
) -> Iterator[RunningStack]:
    logdir = infra.workdir / f"logs-{db_prefix.rstrip('_')}"
    with running_stack(
        redis_url=infra.redis_url,
        mongo_uri=infra.mongo_uri,
        db_prefix=db_prefix,
        logdir=logdir,
        extra_env={
            **STACK_ENV,
            "DELIVERY_MONGODB_URI": infra.delivery_mongo_uri,
            **(extra_env or {}),
        },
    ) as running:
        yield running
