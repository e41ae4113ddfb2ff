"""The vendor's HTTP API as seen from delivery: one batch per call, retried.

    VendorError
    ├── VendorRefused      a 4xx other than 429: the batch can never succeed (permanent)
    └── VendorUnavailable  429/5xx/timeouts/connection errors outlasted the retry budget

After a batch used up its whole budget, the client fails fast for ``breaker_s`` (a
circuit breaker): the other chunks in hand go back to the stream at once instead of
each waiting out its own budget against a vendor that is down.

Retries use exponential back-off with jitter (``base * 2**attempt`` capped, half of it
random) or the server's ``Retry-After`` when given. Every attempt carries the same
``Idempotency-Key``, so a batch the vendor accepted but whose answer was lost is not
sent twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from libs.common.logging import get_logger
from services.delivery.metrics import VENDOR_ATTEMPTS, VENDOR_SECONDS

log = get_logger(__name__)


class VendorError(Exception):
    """``reason`` is the short, stable text stored on the messages (the vendor's own
    error text goes to the log only)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class VendorRefused(VendorError):
    pass


class VendorUnavailable(VendorError):
    def __init__(self, message: str) -> None:
        super().__init__(message, "vendor_unavailable")


def refusal_reason(status: int) -> str:
    """A vendor's 4xx as a message's failure reason."""
    return {
        400: "vendor_rejected_request",
        401: "vendor_auth_failed",
        403: "vendor_auth_failed",
        409: "vendor_conflict",
        413: "vendor_batch_too_large",
        422: "vendor_rejected_content",
    }.get(status, f"vendor_refused_{status}")


@dataclass
class RetryPolicy:
    max_retries: int = 7
    base_s: float = 0.2
    cap_s: float = 10.0
    max_retry_after_s: float = 10.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after_s)
        ceiling = min(self.cap_s, self.base_s * 2.0**attempt)
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    try:
        return float(value) if value else None
    except ValueError:
        return None  # an HTTP date: fall back to our own back-off


class VendorClient:
    def __init__(
        self,
        http: httpx.Client,
        callback_url: str,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        breaker_s: float = 10.0,
    ) -> None:
        self.http = http
        self.callback_url = callback_url
        self.policy = policy
        self.sleep = sleep
        self.breaker_s = breaker_s
        self._open_until = 0.0
        self._open_reason = ""

    def send(
        self, key: str, messages: Sequence[dict[str, Any]], *, probe: bool = False
    ) -> dict[str, str]:
        """Send one batch; return clientRef -> vendor message id for every message.
        ``probe`` tries the vendor even while the breaker is open."""
        if not probe and time.monotonic() < self._open_until:
            VENDOR_ATTEMPTS.labels("short_circuited").inc()
            raise VendorUnavailable(f"vendor circuit open: {self._open_reason}")
        body = {"callbackUrl": self.callback_url, "messages": list(messages)}
        headers = {"Idempotency-Key": key}
        attempts = self.policy.max_retries + 1
        last_error = ""
        for attempt in range(attempts):
            retry_after: float | None = None
            started = time.perf_counter()
            try:
                response = self.http.post("/vendor/messages", json=body, headers=headers)
            except httpx.HTTPError as exc:
                last_error = f"{type(exc).__name__}: {exc}"[:300]
            else:
                VENDOR_SECONDS.observe(time.perf_counter() - started)
                status = response.status_code
                if 200 <= status < 300:
                    VENDOR_ATTEMPTS.labels("accepted").inc()
                    self._open_until = 0.0
                    return self._vendor_ids(response, messages)
                if status != 429 and status < 500:
                    VENDOR_ATTEMPTS.labels("refused").inc()
                    raise VendorRefused(
                        f"vendor refused the batch: HTTP {status} {response.text[:200]}",
                        refusal_reason(status),
                    )
                last_error = f"HTTP {status}"
                retry_after = _retry_after(response)
            if attempt + 1 < attempts:
                VENDOR_ATTEMPTS.labels("retry").inc()
                delay = self.policy.delay(attempt, retry_after)
                log.info("vendor.retrying", attempt=attempt + 1, error=last_error, delay_s=delay)
                self.sleep(delay)
        VENDOR_ATTEMPTS.labels("unavailable").inc()
        self._open_reason = f"vendor unavailable after {attempts} attempts: {last_error}"
        self._open_until = time.monotonic() + self.breaker_s
        raise VendorUnavailable(self._open_reason)

    @staticmethod
    def _vendor_ids(response: httpx.Response, messages: Sequence[dict[str, Any]]) -> dict[str, str]:
        try:
            answer = response.json()["messages"]
            ids = {m["clientRef"]: m["vendorMessageId"] for m in answer}
        except (ValueError, KeyError, TypeError) as exc:
            raise VendorRefused(
                f"vendor answer not understood: {exc}", "vendor_answer_invalid"
            ) from exc
        missing = [m["clientRef"] for m in messages if m["clientRef"] not in ids]
        if missing:
            raise VendorRefused(
                f"vendor answer lacks {len(missing)} messages", "vendor_answer_invalid"
            )
        return ids
