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
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson

from services.vendor_sim.models import AcceptedMessage, SendRequest
from services.vendor_sim.settings import VendorSimSettings

FAILURE_REASONS: dict[str, tuple[str, ...]] = {
    "sms": ("invalid number", "carrier rejected", "unreachable handset", "unsubscribed (STOP)"),
    "email": ("mailbox full", "invalid address", "rejected as spam", "unsubscribed"),
}
# Failures that say nothing about the address (no suppression follows them).
SOFT_FAILURE_REASONS: dict[str, tuple[str, ...]] = {
    "sms": ("carrier rejected", "unreachable handset"),
    "email": ("mailbox full", "rejected as spam"),
}
MAX_REMEMBERED_KEYS = 200_000
# How many client-ref hashes wait in a Python set before being folded into the sorted
# array: a set costs ~70 bytes an entry, the array 8, and a fold copies the array once.
REF_FOLD_SIZE = 65_536
_FINGERPRINT_BYTES = 32  # sha256 digest


@dataclass
class Controls:
    """What tests and operators may change at run time (POST /vendor/control)."""

    success_rate: float = 0.9
    error_rate: float = 0.0
    down: bool = False
    latency_ms: float = 500.0
    latency_jitter_ms: float = 300.0
    latency_distribution: str = "normal"
    # Only failures that keep an address usable: audiences stay the same size after a
    # campaign (the browser tests count them).
    soft_failures_only: bool = False

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {
            "successRate": data["success_rate"],
            "errorRate": data["error_rate"],
            "down": data["down"],
            "latencyMs": data["latency_ms"],
            "latencyJitterMs": data["latency_jitter_ms"],
            "latencyDistribution": data["latency_distribution"],
            "softFailuresOnly": data["soft_failures_only"],
        }


def controls_from(settings: VendorSimSettings) -> Controls:
    return Controls(
        success_rate=settings.success_rate,
        error_rate=settings.error_rate,
        down=settings.down,
        latency_ms=settings.latency_ms,
        latency_jitter_ms=settings.latency_jitter_ms,
        latency_distribution=settings.latency_distribution,
        soft_failures_only=settings.soft_failures_only,
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


class SeenRefs:
    """Every client_ref ever accepted, exactly, in ~8 bytes each (it backs the
    ``duplicate_client_refs`` stat tests use to prove nothing was sent twice).

    A ref is kept as the 64-bit blake2b hash of its text, not the text: recent hashes in a
    set, folded every ``fold_size`` into one sorted ``uint64`` array searched by bisection.
    Not a Bloom filter, so there are no false positives by design; the only error would be
    two different refs with equal 64-bit hashes, and by the birthday bound that chance is
    about n**2 / 2**65 (~3e-8 for a million refs, ~3e-6 for ten million): negligible.

    The sorted hashes live at the front of one buffer grown by half when full, and a fold
    appends the recent ones and sorts in place (timsort merges the two sorted runs in one
    pass). ``np.union1d`` would allocate several new arrays per fold, each larger than the
    last, which the allocator kept: 70 MB of RSS for a million refs instead of 10.
    """

    def __init__(self, fold_size: int = REF_FOLD_SIZE) -> None:
        self.fold_size = fold_size
        self._recent: set[int] = set()
        self._buffer: np.ndarray[Any, np.dtype[np.uint64]] = np.empty(0, dtype=np.uint64)
        self._folded_count = 0

    def __len__(self) -> int:
        return len(self._recent) + self._folded_count

    @property
    def _folded(self) -> np.ndarray[Any, np.dtype[np.uint64]]:
        return self._buffer[: self._folded_count]

    def add_all(self, refs: Sequence[str]) -> int:
        """Remember ``refs`` in order; how many had been seen before (earlier in this same
        sequence included), as one-by-one adds would count them."""
        hashes = [_ref_hash(ref) for ref in refs]
        if self._folded_count:
            folded = self._folded
            wanted = np.array(hashes, dtype=np.uint64)
            at = np.searchsorted(folded, wanted)
            at[at == self._folded_count] = 0
            known = (folded[at] == wanted).tolist()
        else:
            known = [False] * len(hashes)
        duplicates = 0
        for h, in_folded in zip(hashes, known, strict=True):
            if in_folded or h in self._recent:
                duplicates += 1
            else:
                self._recent.add(h)
        # Only between batches: ``known`` was looked up before this batch's own hashes
        # were added, so folding mid-batch would hide them from its later duplicates.
        if len(self._recent) >= self.fold_size:
            self._fold()
        return duplicates

    def clear(self) -> None:
        self._recent.clear()
        self._buffer = np.empty(0, dtype=np.uint64)
        self._folded_count = 0

    def _fold(self) -> None:
        # A recent hash is never among the folded ones (``add_all`` checked), so no dedup.
        start, end = self._folded_count, self._folded_count + len(self._recent)
        if end > len(self._buffer):
            grown = np.empty(max(end, len(self._buffer) * 3 // 2), dtype=np.uint64)
            grown[:start] = self._buffer[:start]
            self._buffer = grown
        self._buffer[start:end] = np.fromiter(self._recent, dtype=np.uint64, count=end - start)
        self._buffer[:end].sort(kind="stable")
        self._folded_count = end
        self._recent.clear()


def _ref_hash(ref: str) -> int:
    return int.from_bytes(hashlib.blake2b(ref.encode(), digest_size=8).digest(), "little")


class Vendor:
    def __init__(
        self,
        controls: Controls,
        *,
        seed: int | None = None,
        max_batch: int = 1000,
        clock: Callable[[], float] = time.monotonic,
        ref_fold_size: int = REF_FOLD_SIZE,
    ) -> None:
        self.controls = controls
        self.max_batch = max_batch
        self.rng = random.Random(seed)
        self.clock = clock
        self.stats: Counter[str] = Counter()
        # Per idempotency key one bytes object: the request's sha256 fingerprint followed by
        # the vendor ids it was given (8 bytes each). The answer is rebuilt from the replayed
        # request itself: an equal fingerprint means the same messages in the same order.
        # (AcceptedMessage objects here plus every ref as a string took 637 MB for 1M messages.)
        self._by_key: OrderedDict[str, bytes] = OrderedDict()
        self._queue: list[_Due] = []
        self._seq = itertools.count()
        self._seen_refs = SeenRefs(ref_fold_size)

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
            remembered = self._by_key[key]
            if remembered[:_FINGERPRINT_BYTES] != fingerprint:
                raise KeyReused(key)
            answer = _replay(request, remembered[_FINGERPRINT_BYTES:])
            self.stats["duplicate_requests"] += 1
            self.stats["duplicates_refused"] += len(answer)
            return answer
        ids = array("Q", (self._accept_one(request.callback_url, m) for m in request.messages))
        self.stats["duplicate_client_refs"] += self._seen_refs.add_all(
            [m.client_ref for m in request.messages]
        )
        if key is not None:
            self._by_key[key] = fingerprint + ids.tobytes()
            while len(self._by_key) > MAX_REMEMBERED_KEYS:
                self._by_key.popitem(last=False)
        return [
            AcceptedMessage(client_ref=m.client_ref, vendor_message_id=_vendor_id(n))
            for m, n in zip(request.messages, ids, strict=True)
        ]

    def _accept_one(self, callback_url: str, message: Any) -> int:
        """Schedule one message's receipt; its vendor id as the 64-bit number."""
        number = self.rng.getrandbits(64)
        vendor_id = _vendor_id(number)
        self.stats["accepted"] += 1
        delivered = self.rng.random() < self.controls.success_rate
        receipt: dict[str, Any] = {
            "vendorMessageId": vendor_id,
            "clientRef": message.client_ref,
            "status": "DELIVERED" if delivered else "FAILED",
        }
        if not delivered:
            reasons = SOFT_FAILURE_REASONS if self.controls.soft_failures_only else FAILURE_REASONS
            receipt["reason"] = self.rng.choice(reasons[message.channel])
        due = self.clock() + self._latency_s()
        heapq.heappush(self._queue, _Due(due, next(self._seq), callback_url, receipt))
        self.stats["receipts_scheduled"] += 1
        return number

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


def _fingerprint(request: SendRequest) -> bytes:
    body = orjson.dumps(request.model_dump(mode="json", by_alias=True))
    return hashlib.sha256(body).digest()


def _vendor_id(number: int) -> str:
    return f"vm_{number:016x}"


def _replay(request: SendRequest, packed_ids: bytes) -> list[AcceptedMessage]:
    """The answer first given to this (same-fingerprint) request, from its packed ids."""
    ids = array("Q")
    ids.frombytes(packed_ids)
    return [
        AcceptedMessage(client_ref=m.client_ref, vendor_message_id=_vendor_id(n))
        for m, n in zip(request.messages, ids, strict=True)
    ]
