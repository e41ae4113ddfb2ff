"""Worker process entry point: build consumers from settings, run them until SIGTERM."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence

import redis
from prometheus_client import start_http_server

from libs.common.events.base import Event
from libs.common.logging import get_logger
from libs.common.settings import CommonSettings
from libs.common.streams.consumer import ConsumerConfig, Handler, StreamConsumer

log = get_logger(__name__)


def consumer_config(
    settings: CommonSettings, stream: str, group: str, batch_size: int | None = None
) -> ConsumerConfig:
    return ConsumerConfig(
        stream=stream,
        group=group,
        batch_size=batch_size or settings.stream_batch_size,
        block_ms=settings.stream_block_ms,
        visibility_timeout_ms=settings.stream_visibility_timeout_ms,
        max_deliveries=settings.stream_max_deliveries,
        claim_interval_s=settings.stream_claim_interval_s,
        linger_ms=settings.stream_linger_ms,
        partitions=settings.stream_layout().partitions(stream),
    )


def make_consumer(
    client: redis.Redis,
    settings: CommonSettings,
    stream: str,
    group: str,
    handlers: Mapping[type[Event], Handler],
    *,
    batch_size: int | None = None,
) -> StreamConsumer:
    """``batch_size``: entries per read when not STREAM_BATCH_SIZE (a group whose entries
    are large, or whose handler holds a shared lock, reads fewer at a time)."""
    config = consumer_config(settings, stream, group, batch_size)
    return StreamConsumer(client, config, handlers)


def lower_priority(nice: int) -> None:
    """Yield the CPU to the APIs on a saturated node (WORKER_NICE, see CommonSettings)."""
    if nice > 0 and hasattr(os, "nice"):
        os.nice(nice)
        log.info("worker.priority_lowered", nice=nice)


def run_consumers(
    consumers: Sequence[StreamConsumer],
    *,
    metrics_port: int = 0,
    burst: bool = False,
    nice: int | None = None,
) -> None:
    """Run consumers (one thread each); SIGTERM stops all after their batch in hand.

    ``nice`` defaults to the WORKER_NICE setting."""
    settings = CommonSettings()  # read from the environment
    lower_priority(settings.worker_nice if nice is None else nice)
    if metrics_port:
        start_http_server(metrics_port)
    if len(consumers) == 1:
        consumers[0].install_signal_handlers()
        consumers[0].run(burst=burst)
        return

    def stop_all(*_: object) -> None:
        for consumer in consumers:
            consumer.stop()

    import signal

    signal.signal(signal.SIGTERM, lambda *_: stop_all())
    signal.signal(signal.SIGINT, lambda *_: stop_all())
    threads = [
        threading.Thread(target=c.run, kwargs={"burst": burst}, name=c.config.group, daemon=True)
        for c in consumers
    ]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        for thread in threads:
            thread.join(timeout=0.5)
    log.info("worker.exited")
