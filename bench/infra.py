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


@dataclass
class Infra:
    redis_url: str
    mongo_uri: str
    redis_port: int
    mongo_port: int
    workdir: Path


@contextmanager
def infrastructure() -> Iterator[Infra]:
    """A fresh redis-server and nx-27017 under bench/tmp/run-<time>/ (removed after)."""
    workdir = TMP / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    redis_port, mongo_port = free_port(), free_port()
    try:
        with (
            local_redis(workdir / "redis", redis_port) as redis_url,
            local_mongo(workdir / "mongo", mongo_port) as mongo_uri,
        ):
            yield Infra(redis_url, mongo_uri, redis_port, mongo_port, workdir)
    finally:
        if not os.environ.get("BENCH_KEEP_TMP"):
            shutil.rmtree(workdir / "mongo", ignore_errors=True)
            shutil.rmtree(workdir / "redis", ignore_errors=True)


# Limits meant for people, not for a benchmark of the machinery behind them.
STACK_ENV = {
    "LOG_LEVEL": "WARNING",
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
        extra_env={**STACK_ENV, **(extra_env or {})},
    ) as running:
        yield running
