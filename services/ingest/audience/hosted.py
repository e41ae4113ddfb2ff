"""The audience read model in a synchronous process (the ``segment`` worker): the
model's asyncio loop runs in a thread of its own, and the resolver asks it for
columns from its thread (``source()``).

Why the resolver holds its own model rather than asking the API's over HTTP: the
answer is in memory either way, and across a process boundary every page of up to
50,000 ids was serialised, sent and parsed twice; the API process also kept a route
that only its own service called. In the worker the model costs its memory (~290 MB
at 1M customers) and one load at start, which the snapshot makes a restore
(services/ingest/audience/snapshot.py). Running the resolver inside the API process
instead would have shared one model, but put the resolver's Python work (building
and encoding hundreds of thousands of recipients) on the interpreter that answers
previews, exactly while a campaign launches.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from libs.common.mongo import make_client
from libs.common.redis_client import make_async_redis
from services.ingest.audience.readmodel import PreviewModel
from services.ingest.audience.source import AudienceSource, model_audience_source
from services.ingest.consent_store import ConsentStore
from services.ingest.settings import IngestSettings
from services.ingest.store import CustomerStore

T = TypeVar("T")


class HostedModel:
    """A PreviewModel kept current in a background thread's event loop."""

    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="audience-model", daemon=True
        )
        self.model: PreviewModel | None = None

    def start(self) -> HostedModel:
        self._thread.start()
        self.model = self.run(self._start_model)
        return self

    async def _start_model(self) -> PreviewModel:
        settings = self.settings
        db = settings.database_name("ingest")
        store = CustomerStore(make_client(settings.mongodb_uri, timeout_ms=60_000)[db])
        model = PreviewModel(
            store,
            make_async_redis(settings.redis_url),
            load_batch=settings.columns_load_batch,
            snapshot_dir=settings.snapshot_dir,
            snapshot_every=settings.snapshot_every,
            snapshot_min_interval_s=settings.snapshot_min_interval_s,
        )
        model.start()
        return model

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work()`` in the model's loop and wait for its result."""

        async def call() -> T:
            return await work()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result()

    def source(self) -> AudienceSource:
        assert self.model is not None, "start() first"
        consent = ConsentStore(self.model.store.db)
        return model_audience_source(self.model, self.run, consent.suppressed_addresses)

    def stop(self) -> None:
        model = self.model
        if model is not None:
            self.run(model.stop)
            self.run(model.redis.aclose)
            model.store.customers.database.client.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
