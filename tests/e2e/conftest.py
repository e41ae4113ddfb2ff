from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support.stack import RunningStack, running_stack

_stack_ids = itertools.count()


@pytest.fixture(scope="module")
def stack(redis_url: str, mongo_uri: str, tmp_path_factory) -> Iterator[RunningStack]:
    # Redis database 1 keeps the stack apart from tests that flush database 0.
    stack_redis = redis_url.rsplit("/", 1)[0] + "/1"
    redis.Redis.from_url(stack_redis).flushdb()
    prefix = f"e2e{next(_stack_ids)}_"
    logdir: Path = tmp_path_factory.mktemp("stack-logs")
    with running_stack(
        redis_url=stack_redis, mongo_uri=mongo_uri, db_prefix=prefix, logdir=logdir
    ) as running:
        yield running
