"""The stream runtime: one consumer of one (stream, group), used by every worker.

At least once, made effectively once by idempotent handlers:
- on start, the consumer drains its own pending entries (id ``0``), then reads new
  ones with ``>``; every ``claim_interval_s`` it XAUTOCLAIMs entries idle longer than
  the visibility timeout from dead consumers (walking the cursor to ``0-0``);
- a handler gets a list of consecutive parsed events it handles (of one type, unless
  the same handler object is registered for several types, which then share a run);
  entries are XACKed only after it returns. ``PermanentError`` dead-letters at once;
  any other exception leaves the entry pending (retried by a later claim). A failing
  multi-entry run is retried entry by entry so one poison entry does not hold back its
  neighbours;
- an entry delivered more than ``max_deliveries`` times goes to ``<stream>.dlq`` with
  its last error, XADD and XACK in one MULTI;
- SIGTERM/SIGINT: stop reading, finish the batch in hand, ack, return.

A partitioned stream (``ConsumerConfig.partitions``) is read one partition per command,
never one XREADGROUP over several (on a Redis Cluster those keys lie in different slots):
a non-blocking pass over the partitions, starting one further each time, that reads
until ``batch_size`` entries are in hand, and when all were empty a short blocking read
on each in turn. What one pass read is handled together, as one batch: a handler that
writes one bulk per call writes as few on four partitions as on one. Each entry is
acknowledged, dead-lettered and trimmed on its own partition; an entity's entries stay
in their partition's order. Pending drain and claims run per partition.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import redis

from libs.common import metrics
from libs.common.errors import PermanentError
from libs.common.events.base import Event, decode
from libs.common.logging import bind_trace_id, get_logger
from libs.common.replies import text
from libs.common.streams.admin import ensure_group, safe_trim
from libs.common.streams.names import dlq_name

log = get_logger(__name__)

Handler = Callable[[list[Any]], None]
RawEntry = tuple[str, dict[bytes, bytes] | None]


def default_consumer_name() -> str:
    """Unique per process: two replicas never share a pending list."""
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class ConsumerConfig:
    stream: str
    group: str
    consumer: str = field(default_factory=default_consumer_name)
    batch_size: int = 200
    block_ms: int = 2000
    visibility_timeout_ms: int = 30_000
    max_deliveries: int = 5
    claim_interval_s: float = 5.0
    housekeeping_interval_s: float = 10.0
    heartbeat_ttl_s: int = 60
    # After a read that came back short, wait this long before the next one, so that a
    # trickle of entries is handled in batches (one bulk write per batch, not per entry).
    linger_ms: int = 0
    # The Redis streams that make up ``stream`` (StreamLayout.partitions); None: itself.
    partitions: list[str] | None = None
    # While every partition is empty, block this long on one before trying the next.
    partition_block_ms: int = 100

    @property
    def streams(self) -> list[str]:
        return list(self.partitions) if self.partitions else [self.stream]


@dataclass
class _Read:
    """Entries read from one partition, with their delivery counts when re-read."""

    stream: str
    entries: Sequence[RawEntry]
    deliveries: dict[str, int] | None = None


@dataclass
class _Outcome:
    ack: list[str] = field(default_factory=list)
    dead: list[tuple[str, dict[bytes, bytes], str, int]] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class StreamConsumer:
    def __init__(
        self,
        client: redis.Redis,
        config: ConsumerConfig,
        handlers: Mapping[type[Event], Handler],
    ) -> None:
        self.client = client
        self.config = config
        self.handlers = dict(handlers)
        self._stopping = False
        self._labels = {"stream": config.stream, "group": config.group}
        self._streams = config.streams
        self._next_block = 0
        self._next_sweep = 0

    def _errors_key(self, stream: str) -> str:
        # shares the partition's hash tag: the dead-letter MULTI stays on one slot
        return f"streamerr:{stream}:{self.config.group}"

    # -- lifecycle -----------------------------------------------------------------
    def stop(self, *_: object) -> None:
        self._stopping = True

    @property
    def stopping(self) -> bool:
        return self._stopping

    def install_signal_handlers(self) -> None:
        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("consumer.stopping", signal=signum, consumer=self.config.consumer)
            self.stop()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)

    def run(self, *, burst: bool = False) -> int:
        """Consume until stopped (or, with ``burst``, until nothing is left). Returns count."""
        cfg = self.config
        handled = self._with_backoff(self._start)
        next_claim = time.monotonic() + cfg.claim_interval_s
        next_housekeeping = 0.0
        log.info("consumer.started", stream=cfg.stream, group=cfg.group, consumer=cfg.consumer)
        while not self._stopping:
            now = time.monotonic()
            if now >= next_housekeeping:
                self._with_backoff(self._housekeeping)
                next_housekeeping = now + cfg.housekeeping_interval_s
            if now >= next_claim:
                handled += self._with_backoff(self.claim_idle)
                next_claim = now + cfg.claim_interval_s
            block = 50 if burst else cfg.block_ms
            count = self._with_backoff(lambda b=block: self.read_new(block_ms=b))  # type: ignore[misc]
            handled += count
            if cfg.linger_ms and not burst and 0 < count < cfg.batch_size:
                time.sleep(cfg.linger_ms / 1000)
            if burst and count == 0:
                claimed = self._with_backoff(self.claim_idle)
                handled += claimed
                if claimed == 0:
                    break
        self._with_backoff(self._housekeeping)
        log.info("consumer.stopped", consumer=cfg.consumer, handled=handled)
        return handled

    def _start(self) -> int:
        self._ensure_groups()
        return self.drain_own_pending()

    def _ensure_groups(self) -> None:
        for stream in self._streams:
            ensure_group(self.client, stream, self.config.group)

    def _with_backoff(self, action: Callable[[], int | None]) -> int:
        """Run one Redis-touching step; on connection loss, back off and retry it."""
        delay = 0.1
        while True:
            try:
                return action() or 0
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if self._stopping:
                    return 0
                log.warning("consumer.redis_unavailable", error=str(exc), retry_in_s=delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                log.error("consumer.group_missing", stream=self.config.stream, error=str(exc))
                self._ensure_groups()

    # -- reading -------------------------------------------------------------------
    def read_new(self, *, block_ms: int | None = None) -> int:
        block = self.config.block_ms if block_ms is None else block_ms
        if len(self._streams) == 1:
            return self._read_partition(self._streams[0], block)
        handled = self._sweep_partitions()
        if handled or not block or self._stopping:
            return handled
        # all empty: wait on one partition (in turn), briefly, then sweep again
        stream = self._streams[self._next_block % len(self._streams)]
        self._next_block += 1
        return self._read_partition(stream, min(block, self.config.partition_block_ms))

    def _sweep_partitions(self) -> int:
        """Read every partition once without blocking, until ``batch_size`` entries are
        in hand; handle them as one batch. The first partition read moves on by one each
        pass, so a partition with a backlog does not keep the others waiting."""
        cfg = self.config
        count = len(self._streams)
        first = self._next_sweep % count
        self._next_sweep += 1
        reads: list[_Read] = []
        budget = cfg.batch_size
        for offset in range(count):
            if self._stopping or budget <= 0:
                break
            stream = self._streams[(first + offset) % count]
            reply = self.client.xreadgroup(cfg.group, cfg.consumer, {stream: ">"}, count=budget)
            entries = _entries_of(reply)
            if entries:
                reads.append(_Read(stream, entries))
                budget -= len(entries)
        if reads:
            self._handle_reads(reads)
        return cfg.batch_size - budget

    def _read_partition(self, stream: str, block_ms: int | None) -> int:
        cfg = self.config
        reply = self.client.xreadgroup(
            cfg.group, cfg.consumer, {stream: ">"}, count=cfg.batch_size, block=block_ms
        )
        entries = _entries_of(reply)
        if not entries:
            return 0
        self.handle(entries, deliveries=None, stream=stream)
        return len(entries)

    def drain_own_pending(self) -> int:
        """Re-handle what this consumer name read but never acked (after a restart)."""
        return sum(self._drain_partition(stream) for stream in self._streams)

    def _drain_partition(self, stream: str) -> int:
        cfg = self.config
        last_id = "0"
        handled = 0
        while not self._stopping:
            reply = self.client.xreadgroup(
                cfg.group, cfg.consumer, {stream: last_id}, count=cfg.batch_size
            )
            entries = _entries_of(reply)
            if not entries:
                break
            self.handle(entries, deliveries=self._delivery_counts(stream, entries), stream=stream)
            handled += len(entries)
            last_id = entries[-1][0]
        return handled

    def claim_idle(self) -> int:
        """XAUTOCLAIM entries idle past the visibility timeout; walk the cursor to 0-0."""
        return sum(self._claim_partition(stream) for stream in self._streams)

    def _claim_partition(self, stream: str) -> int:
        cfg = self.config
        cursor = "0-0"
        handled = 0
        while not self._stopping:
            reply = self.client.xautoclaim(
                stream,
                cfg.group,
                cfg.consumer,
                min_idle_time=cfg.visibility_timeout_ms,
                start_id=cursor,
                count=cfg.batch_size,
            )
            cursor = text(reply[0])
            entries: list[RawEntry] = [(text(i), f) for i, f in reply[1]]
            deleted = [text(i) for i in (reply[2] if len(reply) > 2 else [])]
            if deleted:
                # Trimmed while pending: nothing left to handle.
                self.client.xack(stream, cfg.group, *deleted)
            if entries:
                metrics.STREAM_CLAIMED.labels(**self._labels).inc(len(entries))
                log.info("consumer.claimed", count=len(entries), stream=stream)
                counts = self._delivery_counts(stream, entries)
                self.handle(entries, deliveries=counts, stream=stream)
                handled += len(entries)
            if cursor == "0-0":
                break
        return handled

    def _delivery_counts(self, stream: str, entries: Sequence[RawEntry]) -> dict[str, int]:
        cfg = self.config
        rows = self.client.xpending_range(
            stream,
            cfg.group,
            min=entries[0][0],
            max=entries[-1][0],
            count=len(entries) * 2 + 10,
            consumername=cfg.consumer,
        )
        return {text(row["message_id"]): int(row["times_delivered"]) for row in rows}

    # -- handling ------------------------------------------------------------------
    def handle(
        self,
        entries: Sequence[RawEntry],
        *,
        deliveries: dict[str, int] | None,
        stream: str | None = None,
    ) -> None:
        """Handle entries read from one partition (``stream``; the first by default)."""
        self._handle_reads([_Read(stream or self._streams[0], entries, deliveries)])

    def _handle_reads(self, reads: Sequence[_Read]) -> None:
        started = time.perf_counter()
        outcomes = {read.stream: _Outcome() for read in reads}
        parsed: list[Event] = []
        raw: dict[tuple[str, str], dict[bytes, bytes]] = {}
        for read in reads:
            outcome = outcomes[read.stream]
            for entry_id, fields in read.entries:
                if not fields:
                    outcome.ack.append(entry_id)
                    continue
                raw[(read.stream, entry_id)] = fields
                count = (read.deliveries or {}).get(entry_id, 1)
                if count > self.config.max_deliveries:
                    error = self._last_error(read.stream, entry_id) or "exceeded max deliveries"
                    outcome.dead.append((entry_id, fields, error, count))
                    continue
                try:
                    event = decode(entry_id, fields)
                except PermanentError as exc:
                    outcome.dead.append((entry_id, fields, str(exc), count))
                    continue
                event._deliveries = count
                event._source_stream = read.stream
                parsed.append(event)

        for run in _runs_by_handler(parsed, self.handlers):
            self._dispatch(run, outcomes, raw)

        for stream, outcome in outcomes.items():
            self._finish(stream, outcome)
        metrics.STREAM_BATCH_SECONDS.labels(**self._labels).observe(time.perf_counter() - started)

    def _dispatch(
        self,
        run: list[Event],
        outcomes: dict[str, _Outcome],
        raw: dict[tuple[str, str], dict[bytes, bytes]],
    ) -> None:
        def dead(event: Event, reason: str) -> None:
            stream, entry_id = str(event.source_stream), str(event.entry_id)
            outcomes[stream].dead.append(
                (entry_id, raw[(stream, entry_id)], reason, event.deliveries)
            )

        handler = self.handlers.get(type(run[0]))
        if handler is None:
            for event in run:
                dead(event, f"no handler for {event.TYPE} in group {self.config.group}")
            return
        bind_trace_id(run[0].trace_id)
        try:
            handler(run)
        except PermanentError as exc:
            if len(run) > 1:
                for event in run:
                    self._dispatch([event], outcomes, raw)
                return
            log.warning("consumer.permanent_failure", entry_id=run[0].entry_id, error=str(exc))
            dead(run[0], str(exc))
            return
        except Exception as exc:
            if len(run) > 1:
                log.warning("consumer.batch_failed_retrying_singly", size=len(run), error=str(exc))
                for event in run:
                    self._dispatch([event], outcomes, raw)
                return
            event = run[0]
            log.exception("consumer.handler_failed", entry_id=event.entry_id, type=event.TYPE)
            metrics.STREAM_FAILED.labels(**self._labels).inc()
            outcomes[str(event.source_stream)].failed[str(event.entry_id)] = (
                f"{type(exc).__name__}: {exc}"
            )
            return
        for event in run:
            outcomes[str(event.source_stream)].ack.append(str(event.entry_id))

    def _finish(self, stream: str, outcome: _Outcome) -> None:
        cfg = self.config
        errors_key = self._errors_key(stream)
        # every key here shares the partition's slot: one MULTI, on a cluster too
        pipe = self.client.pipeline(transaction=True)
        for entry_id, fields, error, count in outcome.dead:
            dead_fields: dict[Any, Any] = dict(fields)
            dead_fields.update(
                {
                    "error": error[:2000],
                    "source_stream": stream,
                    "source_id": entry_id,
                    "group": cfg.group,
                    "deliveries": count,
                }
            )
            pipe.xadd(dlq_name(stream), dead_fields)
            pipe.xack(stream, cfg.group, entry_id)
        done = outcome.ack + [d[0] for d in outcome.dead]
        if outcome.ack:
            pipe.xack(stream, cfg.group, *outcome.ack)
        if done:
            pipe.hdel(errors_key, *done)
        if outcome.failed:
            pipe.hset(errors_key, mapping=outcome.failed)  # type: ignore[arg-type]
        if done or outcome.failed:
            pipe.execute()
        if outcome.ack:
            metrics.STREAM_PROCESSED.labels(**self._labels).inc(len(outcome.ack))
        if outcome.dead:
            metrics.STREAM_DEAD_LETTERED.labels(**self._labels).inc(len(outcome.dead))
            log.error(
                "consumer.dead_lettered",
                count=len(outcome.dead),
                stream=stream,
                group=cfg.group,
                errors=sorted({d[2][:200] for d in outcome.dead})[:5],
            )

    def _last_error(self, stream: str, entry_id: str) -> str | None:
        value = self.client.hget(self._errors_key(stream), entry_id)
        return text(value) if value is not None else None

    # -- housekeeping --------------------------------------------------------------
    def _housekeeping(self) -> None:
        cfg = self.config
        pending, lags = 0, 0
        for stream in self._streams:
            for info in self.client.xinfo_groups(stream):
                if text(info["name"]) == cfg.group:
                    pending += int(info["pending"])
                    lags += int(info.get("lag") or 0)
        metrics.STREAM_PENDING.labels(**self._labels).set(pending)
        metrics.STREAM_LAG.labels(**self._labels).set(lags)
        self.client.set(
            f"worker:{cfg.stream}:{cfg.group}:{cfg.consumer}",
            str(time.time()),
            ex=cfg.heartbeat_ttl_s,
        )
        for stream in self._streams:
            safe_trim(self.client, stream)


def _entries_of(reply: Any) -> list[RawEntry]:
    if not reply:
        return []
    _stream, raw = reply[0]
    return [(text(entry_id), fields) for entry_id, fields in raw]


def _runs_by_handler(events: list[Event], handlers: Mapping[type[Event], Any]) -> list[list[Event]]:
    """Consecutive events of one handler, in stream order (of one type, unless a handler
    object is registered for several types: a handler that wants to see what its
    neighbours in the stream hold, like one write per message, not one per event)."""
    runs: list[list[Event]] = []
    last: object = None
    for event in events:
        handler = handlers.get(type(event), type(event))
        if runs and handler is last:
            runs[-1].append(event)
        else:
            runs.append([event])
            last = handler
    return runs
