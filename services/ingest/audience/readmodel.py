"""Keeps the API process's columnar read model loaded and current.

At start: note the last id of ``ingest.changes``, load every customer from the database
in a thread, then tail ``ingest.changes`` from the noted id, applying the documents the
notices carry (no database read). Changes written during the load are therefore
replayed, never missed; a notice older than the row (by ``version``) is ignored, so
replaying one the load already saw, or two notices in the wrong order, changes nothing.
If entries were trimmed before this process read them (it fell too far behind), it
reloads.

Until the model is current, small customer bases are previewed from the database; above
``scan_max_rows`` a preview is refused (``current`` raises :class:`PreviewNotReady`,
503 + Retry-After with the load's progress) instead: on the embedded server a full scan
of a million documents takes minutes and starves every other client, the loader
included. The loader has its own database client (``load_store``), so a failing request
never resets its connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from typing import Any

import redis.asyncio as aioredis

from libs.common.clock import epoch_ms, now_utc
from libs.common.errors import PreviewNotReady
from libs.common.logging import get_logger
from libs.common.replies import text
from services.ingest import metrics
from services.ingest.audience import listing, snapshot
from services.ingest.audience.changes import CHANGES_STREAM, parse_caps, parse_docs
from services.ingest.audience.columns import PROJECTION, Columns
from services.ingest.pacing_store import PacingStore
from services.ingest.store import CustomerStore

log = get_logger(__name__)
APPLY_SLICE = 128  # rows applied between two turns of the event loop (~2 ms)
READ_ENTRIES = 10  # notices per read: each carries up to 2,000 documents (~1 MB)


def _id_tuple(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _warm(columns: Columns) -> None:
    listing.warm(columns)  # ~0.7 s at 1M customers: better here than in a request
    # Millions of long-lived objects would make every full collection walk them (a
    # ~200 ms pause at 1M customers, seen as preview p99): collect once now and leave
    # what survives out of future collections. Refcounting still frees them.
    gc.collect()
    gc.freeze()


Caps = list[tuple[str, list[tuple[str, int]]]]


def _parse_all(
    entries: list[tuple[Any, dict[bytes, bytes]]],
) -> tuple[list[dict[str, Any]], Caps]:
    """The documents and the frequency caps (channel, [(id, until ms)]) the notices carry."""
    docs: list[dict[str, Any]] = []
    caps: Caps = []
    for _entry_id, fields in entries:
        found = parse_caps(fields)
        if found is not None:
            caps.append(found)
        else:
            docs.extend(parse_docs(fields))
    return docs, caps


def _load_caps(columns: Columns, pacing: PacingStore) -> None:
    """The caps still holding, from ingest's own copy (notices after the load's start
    are replayed too; a later moment wins, so that is harmless)."""
    by_channel: dict[str, list[tuple[str, int]]] = {}
    for doc in pacing.capped_after(epoch_ms(now_utc())):
        by_channel.setdefault(doc["channel"], []).append((doc["customer_id"], doc["until_ms"]))
    for channel, capped in by_channel.items():
        columns.apply_caps(channel, capped)


class PreviewModel:
    def __init__(
        self,
        store: CustomerStore,
        redis: aioredis.Redis,
        *,
        load_batch: int = 50_000,
        load_store: CustomerStore | None = None,
        scan_max_rows: int = 100_000,
        snapshot_dir: str = "",
        snapshot_every: int = 200,
        snapshot_min_interval_s: float = 60.0,
    ) -> None:
        self.store = load_store or store
        self.redis = redis
        self.load_batch = load_batch
        self.scan_max_rows = scan_max_rows
        self.columns: Columns | None = None
        self._loading: Columns | None = None
        self.expected_rows: int | None = None  # documents counted when the load began
        self.load_started = time.monotonic()
        self.last_id = "0-0"
        # how many notices ever added lie at or before last_id (all read, or before load)
        self.consumed = 0
        self.load_seconds: float | None = None
        # services.ingest.audience.snapshot: where to keep one ("" none), and how many
        # notices applied since the last one make it worth writing again
        self.snapshot_dir = snapshot_dir
        self.snapshot_every = snapshot_every
        self.snapshot_min_interval_s = snapshot_min_interval_s
        self._snapshot_consumed = 0
        self._snapshot_at = 0.0  # time.monotonic() of the last one written
        self.restored = False  # the last (re)load came from a snapshot
        self._task: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        return self.columns is not None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="preview-model")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        failures = 0
        while True:  # (re)load, then tail until notices were lost
            try:
                await self._load()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # backed off: each retry is another full read of the collection
                failures += 1
                delay = min(30.0, 2.0**failures)
                log.warning("preview_model.load_failed_retrying", error=str(exc), delay=delay)
                await asyncio.sleep(delay)
                continue
            while True:
                try:
                    await self._tail()
                    break  # notices were trimmed unread: reload
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # Redis or the database away: resume where we were
                    log.warning("preview_model.tail_failed_retrying", error=str(exc))
                    await asyncio.sleep(1)

    async def _load(self) -> None:
        started = time.perf_counter()
        self.load_started = time.monotonic()
        position = await self._stream_info()
        self.columns = None
        self.expected_rows = None
        if await self._restore(position, started):
            return
        self.last_id = text(position.get("last-generated-id", b"0-0"))
        self.consumed = int(position.get("entries-added", 0))
        self.expected_rows = await asyncio.to_thread(self.store.customers.estimated_document_count)
        try:
            self.columns = await asyncio.to_thread(self._load_all)
        finally:
            self._loading = None
        self.load_seconds = time.perf_counter() - started
        metrics.READ_MODEL_ROWS.set(self.columns.n)
        metrics.READ_MODEL_LOAD_SECONDS.set(self.load_seconds)
        log.info("preview_model.loaded", rows=self.columns.n, seconds=round(self.load_seconds, 2))
        await self._save_snapshot()

    async def _restore(self, position: dict[str, Any], started: float) -> bool:
        """Restore the columns from a snapshot that the change notices still continue."""
        if not self.snapshot_dir:
            return False
        database = self.store.customers.database.name
        saved = await asyncio.to_thread(snapshot.load, self.snapshot_dir, database)
        if saved is None or not snapshot.covers(saved, position):
            if saved is not None:
                log.info("preview_model.snapshot_too_old", last_id=saved.last_id)
            return False
        await asyncio.to_thread(_warm, saved.columns)
        self.columns, self.last_id, self.consumed = saved.columns, saved.last_id, saved.consumed
        self._snapshot_consumed, self._snapshot_at = saved.consumed, time.monotonic()
        self.restored = True
        self.load_seconds = time.perf_counter() - started
        metrics.READ_MODEL_ROWS.set(saved.columns.n)
        metrics.READ_MODEL_LOAD_SECONDS.set(self.load_seconds)
        log.info(
            "preview_model.restored",
            rows=saved.columns.n,
            seconds=round(self.load_seconds, 2),
            last_id=saved.last_id,
        )
        return True

    async def _save_snapshot(self) -> None:
        """Write a snapshot of the columns as they are now (the tail waits meanwhile, so
        no change is applied half-way through). A failure only costs the next start
        time."""
        columns = self.columns
        if not self.snapshot_dir or columns is None:
            return
        saved = snapshot.Snapshot(columns, self.last_id, self.consumed)
        database = self.store.customers.database.name
        started = time.perf_counter()
        try:
            size = await asyncio.to_thread(snapshot.save, self.snapshot_dir, database, saved)
        except Exception as exc:
            log.warning("preview_model.snapshot_failed", error=str(exc)[:200])
            return
        self._snapshot_consumed, self._snapshot_at = saved.consumed, time.monotonic()
        log.info(
            "preview_model.snapshot_saved",
            rows=columns.n,
            megabytes=round(size / 1e6, 1),
            seconds=round(time.perf_counter() - started, 2),
        )

    def _load_all(self) -> Columns:
        columns = self._loading = Columns()
        # In pages of natural order (skip + limit), not one cursor: nx-27017 materialises
        # a query's whole result before its first batch (2.8 GB for 1M customers), a
        # page costs it ~200 MB. Natural order is stable here because customers are
        # never deleted (an update keeps a document's place on both servers); documents
        # inserted meanwhile land in a later page or come with the change notices.
        skip = 0
        while True:
            page = self.store.customers.find(
                {}, PROJECTION, skip=skip, limit=self.load_batch, batch_size=10_000
            )
            read = columns.upsert(page)  # decoded 10,000 documents at a time
            skip += read
            if read < self.load_batch:
                break
        columns.prepare()
        _load_caps(columns, PacingStore(self.store.db))
        _warm(columns)
        self.restored = False
        return columns

    async def _tail(self) -> None:
        while True:
            reply: Any = await self.redis.xread(  # redis-py types the reply loosely
                {CHANGES_STREAM: self.last_id}, count=READ_ENTRIES, block=1000
            )
            if not reply:
                continue
            entries: list[tuple[bytes, dict[bytes, bytes]]] = reply[0][1]
            if await self._missed_entries():
                log.warning("preview_model.changes_trimmed_reloading")
                return
            # decoded off the event loop: ten full notices are ~6 MB of JSON
            docs, caps = await asyncio.to_thread(_parse_all, entries)
            rows = await self._apply(docs, caps)
            metrics.READ_MODEL_ROWS.set(rows)
            self.last_id = text(entries[-1][0])
            self.consumed += len(entries)
            if (
                self.consumed - self._snapshot_consumed >= self.snapshot_every
                and time.monotonic() - self._snapshot_at >= self.snapshot_min_interval_s
            ):
                await self._save_snapshot()

    async def _apply(self, docs: list[dict[str, Any]], caps: Caps | None = None) -> int:
        """Apply announced documents a slice at a time, letting requests in between: at
        ~15 us of Python per row in the event loop that serves requests, a 50,000-row
        catch-up in one call stalled every request for ~0.6 s; then the announced caps
        (one chunk's customers each). Returns the rows held."""
        columns = self.columns
        assert columns is not None  # tailing begins once a load succeeded
        for start in range(0, len(docs), APPLY_SLICE):
            columns.apply(docs[start : start + APPLY_SLICE])
            await asyncio.sleep(0)
        for channel, capped in caps or []:
            columns.apply_caps(channel, capped)
            await asyncio.sleep(0)
        return columns.n

    async def _stream_info(self) -> dict[str, Any]:
        try:
            return dict(await self.redis.xinfo_stream(CHANGES_STREAM))
        except aioredis.ResponseError:  # no stream yet
            return {}

    async def _missed_entries(self) -> bool:
        """Were notices trimmed that this process never read?

        Trimming only removes the oldest entries, so ``entries-added - length`` of them
        are gone; they were all read if that is no more than ``consumed``. Checked
        after a read, so a trim racing with it may cause a needless (safe) reload.
        """
        info = await self._stream_info()
        if "entries-added" not in info:
            return False
        trimmed = int(info["entries-added"]) - int(info["length"])
        return trimmed > self.consumed

    async def current(self, timeout: float, *, stale_ok: bool = False) -> Columns:
        """The columns once they hold every change written so far, waiting up to
        ``timeout``; else PreviewNotReady saying how far the model has got (503 +
        Retry-After). ``stale_ok``: loaded columns still behind after the wait will do
        (a count that must never go down, see the API's ``/customers/stats``)."""
        if self.ready and (await self.wait_caught_up(timeout) or stale_ok):
            columns = self.columns
            if columns is not None:  # None again if a reload began meanwhile
                return columns
        raise await self._not_ready()

    def can_scan(self) -> bool:
        """Is the database small enough to be asked instead (``scan_max_rows``)?"""
        size = self.columns.n if self.columns is not None else self.expected_rows
        return size is not None and size <= self.scan_max_rows

    async def _not_ready(self) -> PreviewNotReady:
        if self.columns is not None:
            added = int((await self._stream_info()).get("entries-added", 0))
            behind = max(0, added - self.consumed)
            return PreviewNotReady(
                "the read model is applying recent changes; retry shortly",
                {"state": "catching_up", "changesBehind": behind, "retryAfter": 1},
            )
        loaded = self._loading.n if self._loading is not None else 0
        elapsed = time.monotonic() - self.load_started
        retry = 5
        if self.expected_rows and loaded:
            remaining = max(0, self.expected_rows - loaded)
            retry = round(remaining / (loaded / max(elapsed, 0.001)))
        return PreviewNotReady(
            "the read model is loading; the database is too large to scan instead",
            {
                "state": "loading",
                "rowsLoaded": loaded,
                "rowsTotal": self.expected_rows,
                "seconds": round(elapsed, 1),
                "retryAfter": min(60, max(1, retry)),
            },
        )

    async def wait_caught_up(self, timeout: float) -> bool:
        """Wait until every change notice written so far is applied (read-your-writes)."""
        deadline = time.monotonic() + timeout
        while not await self.caught_up():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def caught_up(self) -> bool:
        """True when every change notice written so far has been applied."""
        last = await self.redis.xrevrange(CHANGES_STREAM, count=1)
        latest = text(last[0][0]) if last else "0-0"
        return self.ready and _id_tuple(self.last_id) >= _id_tuple(latest)
