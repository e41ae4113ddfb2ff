"""The active journeys, as the worker sees them: read again at most every ``ttl_s``."""

from __future__ import annotations

import threading
import time

from services.campaign.journeys.runner import Journey, compile_journey
from services.campaign.journeys.store import JourneyStore


class Catalog:
    def __init__(self, store: JourneyStore, ttl_s: float = 1.0) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self._at = -1e9
        self._active: dict[str, Journey] = {}
        self._lock = threading.Lock()

    def active(self) -> dict[str, Journey]:
        with self._lock:
            if time.monotonic() - self._at >= self.ttl_s:
                self._active = {d["_id"]: compile_journey(d) for d in self.store.active_journeys()}
                self._at = time.monotonic()
            return self._active

    def status(self, journey_id: str) -> str | None:
        doc = self.store.get_journey(journey_id)
        return None if doc is None else str(doc["status"])
