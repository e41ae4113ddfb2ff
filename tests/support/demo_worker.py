"""A worker used by the stream-runtime tests: records what it handles in Redis.

Usage: python -m tests.support.demo_worker <stream> <group> <mode>
mode: "record" (RPUSH handled ids), "slow" (sleep 1.5 s per batch, then record),
"fail" (always raise).
"""

from __future__ import annotations

import sys
import time
from typing import ClassVar

from libs.common.events.base import Event
from libs.common.logging import configure_logging
from libs.common.redis_client import make_redis
from libs.common.settings import CommonSettings
from libs.common.worker import make_consumer, run_consumers


class DemoEvent(Event):
    TYPE: ClassVar[str] = "demo.item.v1"
    STREAM: ClassVar[str] = "demo"
    n: int

    def partition_key(self) -> str:
        return str(self.n)


class DemoNote(Event):
    """A second type on the same stream."""

    TYPE: ClassVar[str] = "demo.note.v1"
    STREAM: ClassVar[str] = "demo"
    text: str


def main() -> None:
    stream, group, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    settings = CommonSettings()
    configure_logging("demo", settings.log_level)
    client = make_redis(settings.redis_url, block_ms=settings.stream_block_ms)

    def handle(events: list[DemoEvent]) -> None:
        if mode == "fail":
            raise RuntimeError("demo handler always fails")
        if mode == "slow":
            client.rpush("demo:started", *[e.n for e in events])
            time.sleep(1.5)
        client.rpush("demo:handled", *[e.n for e in events])

    consumer = make_consumer(client, settings, stream, group, {DemoEvent: handle})
    consumer.config.batch_size = int(client.get("demo:batch_size") or 50)
    run_consumers([consumer])


if __name__ == "__main__":
    main()
