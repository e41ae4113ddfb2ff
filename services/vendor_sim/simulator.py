"""The vendor's in-memory state: accepting batches, idempotency, fault injection, and the
receipts it owes (each due at a random time). Pure logic: no I/O, the clock is injected.

Randomness comes from one seeded ``random.Random`` so a run with ``VENDOR_SEED`` is
reproducible for a given order of requests.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import random
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from services.vendor_sim.models import AcceptedMessage, SendRequest
from services.vendor_sim.settings import VendorSimSettings

FAILURE_REASONS: dict[str, tuple[str, ...]] = {
    "sms": ("invalid number", "carrier rejected", "unreachable handset", "unsubscribed (STOP)"),
    "email": ("mailbox full", "invalid address", "rejected as spam", "unsubscribed"),
}
MAX_REMEMBERED_KEYS = 200_000


@dataclass
class Controls:
    """What tests and operators may change at run time (POST /vendor/control)."""

    success_rate: float = 0.9
    error_rate: float = 0.0
    down: bool = False
    latency_ms: float = 500.0
    latency_jitter_ms: float = 300.0
    latency_distribution: str = "normal"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {
            "successRate": data["success_rate"],
            "errorRate": data["error_rate"],
            "down": data["down"],
            "latencyMs": data["latency_ms"],
            "latencyJitterMs": data["latency_jitter_ms"],
            "latencyDistribution": data["latency_distribution"],
        }


def controls_from(settings: VendorSimSettings) -> Controls:
    return Controls(
        success_rate=settings.success_rate,
        error_rate=settings.error_rate,
        down=settings.down,
        latency_ms=settings.latency_ms,
        latency_jitter_ms=settings.latency_jitter_ms,
        latency_distribution=settings.latency_distribution,
    )


class VendorFault(Exception):
    """An injected failure the HTTP layer turns into a 429/5xx answer."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class KeyReused(Exception):
    """The same idempotency key came back with a different body."""


@dataclass(order=True)
class _Due:
    due: float
    seq: int
    callback_url: str
    receipt: dict[str, Any]


class Vendor:
    def __init__(
        self,
        controls: Controls,
        *,
        seed: int | None = None,
        max_batch: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.controls = controls
        self.max_batch = max_batch
        self.rng = random.Random(seed)
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self._by_key: OrderedDict[str, tuple[str, list[AcceptedMessage]]] = OrderedDict()
        self._queue: list[_Due] = []
        self._seq = itertools.count()
        self._seen_refs: set[str] = set()

    def reset(self, controls: Controls, seed: int | None) -> None:
        """Forget everything (tests share one vendor process between cases)."""
        self.controls = controls
        self.rng = random.Random(seed)
        self.stats.clear()
        self._by_key.clear()
        self._queue.clear()
        self._seen_refs.clear()

    # -- accepting -----------------------------------------------------------------
    def submit(self, key: str | None, request: SendRequest) -> list[AcceptedMessage]:
        """Accept a batch (or replay the answer for a known key); schedule its receipts."""
        self.stats["requests"] += 1
        if self.controls.down:
            self.stats["refused_down"] += 1
            raise VendorFault(503, "vendor is down")
        if self.controls.error_rate and self.rng.random() < self.controls.error_rate:
            if self.rng.random() < 0.5:
                self.stats["refused_429"] += 1
                raise VendorFault(429, "too many requests", retry_after=1)
            self.stats["refused_5xx"] += 1
            raise VendorFault(500, "internal vendor error")
        fingerprint = _fingerprint(request)
        if key is not None and key in self._by_key:
            known_fingerprint, answer = self._by_key[key]
            if known_fingerprint != fingerprint:
                raise KeyReused(key)
            self.stats["duplicate_requests"] += 1
            self.stats["duplicates_refused"] += len(answer)
            return answer
        answer = [self._accept_one(request.callback_url, m) for m in request.messages]
        if key is not None:
            self._by_key[key] = (fingerprint, answer)
            while len(self._by_key) > MAX_REMEMBERED_KEYS:
                self._by_key.popitem(last=False)
        return answer

    def _accept_one(self, callback_url: str, message: Any) -> AcceptedMessage:
        vendor_id = f"vm_{self.rng.getrandbits(64):016x}"
        self.stats["accepted"] += 1
        if message.client_ref in self._seen_refs:
            self.stats["duplicate_client_refs"] += 1
        self._seen_refs.add(message.client_ref)
        delivered = self.rng.random() < self.controls.success_rate
        receipt: dict[str, Any] = {
            "vendorMessageId": vendor_id,
            "clientRef": message.client_ref,
            "status": "DELIVERED" if delivered else "FAILED",
        }
        if not delivered:
            receipt["reason"] = self.rng.choice(FAILURE_REASONS[message.channel])
        due = self.clock() + self._latency_s()
        heapq.heappush(self._queue, _Due(due, next(self._seq), callback_url, receipt))
        self.stats["receipts_scheduled"] += 1
        return AcceptedMessage(client_ref=message.client_ref, vendor_message_id=vendor_id)

    def _latency_s(self) -> float:
        c = self.controls
        if c.latency_distribution == "exponential":
            value = self.rng.expovariate(1 / c.latency_ms) if c.latency_ms > 0 else 0.0
        elif c.latency_distribution == "uniform":
            value = self.rng.uniform(
                c.latency_ms - c.latency_jitter_ms, c.latency_ms + c.latency_jitter_ms
            )
        else:
            value = self.rng.gauss(c.latency_ms, c.latency_jitter_ms)
        return max(0.0, value) / 1000

    # -- receipts ------------------------------------------------------------------
    def take_due(self, limit: int = 100_000) -> dict[str, list[dict[str, Any]]]:
        """Receipts whose time has come, grouped by callback URL, timestamped now."""
        now = self.clock()
        stamp = datetime.now(UTC).isoformat()
        out: dict[str, list[dict[str, Any]]] = {}
        taken = 0
        while self._queue and self._queue[0].due <= now and taken < limit:
            item = heapq.heappop(self._queue)
            receipt = {**item.receipt, "timestamp": stamp}
            self.stats["delivered" if receipt["status"] == "DELIVERED" else "failed"] += 1
            out.setdefault(item.callback_url, []).append(receipt)
            taken += 1
        return out

    @property
    def pending_receipts(self) -> int:
        return len(self._queue)

    def snapshot(self) -> dict[str, Any]:
        s = self.stats
        return {
            "requests": s["requests"],
            "accepted": s["accepted"],
            "delivered": s["delivered"],
            "failed": s["failed"],
            "receiptsScheduled": s["receipts_scheduled"],
            "receiptsPending": self.pending_receipts,
            "receiptsPosted": s["receipts_posted"],
            "receiptsDropped": s["receipts_dropped"],
            "callbackAttempts": s["callback_attempts"],
            "callbackFailures": s["callback_failures"],
            "duplicateRequests": s["duplicate_requests"],
            "duplicatesRefused": s["duplicates_refused"],
            "duplicateClientRefs": s["duplicate_client_refs"],
            "refused429": s["refused_429"],
            "refused5xx": s["refused_5xx"],
            "refusedDown": s["refused_down"],
            "controls": self.controls.as_json(),
        }


def _fingerprint(request: SendRequest) -> str:
    body = orjson.dumps(request.model_dump(mode="json", by_alias=True))
    return hashlib.sha256(body).hexdigest()
