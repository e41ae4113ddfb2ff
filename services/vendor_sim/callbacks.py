"""Posting receipts back to the customer's webhook: batched, signed, retried.

Every ``flush`` interval the due receipts are taken, grouped per callback URL, cut into
batches and posted concurrently (bounded). A batch that meets a 5xx, a 429 or a
connection error is retried with exponential back-off and jitter until it is accepted
or ``max_attempts`` is reached; a 4xx other than 429 means the receiver refuses it for
good, and it is dropped (counted).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from libs.common.logging import get_logger
from services.vendor_sim.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from services.vendor_sim.simulator import Vendor

log = get_logger(__name__)


@dataclass
class CallbackPolicy:
    secret: str
    batch: int = 500
    flush_s: float = 0.1
    max_attempts: int = 60
    retry_base_s: float = 0.2
    retry_cap_s: float = 5.0
    concurrency: int = 8


class CallbackDispatcher:
    def __init__(self, vendor: Vendor, client: httpx.AsyncClient, policy: CallbackPolicy) -> None:
        self.vendor = vendor
        self.client = client
        self.policy = policy
        self._slots = asyncio.Semaphore(policy.concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._jitter = random.Random()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def run(self) -> None:
        while True:
            self.flush()
            await asyncio.sleep(self.policy.flush_s)

    def flush(self) -> None:
        for url, receipts in self.vendor.take_due().items():
            for start in range(0, len(receipts), self.policy.batch):
                batch = receipts[start : start + self.policy.batch]
                task = asyncio.create_task(self._post(url, batch))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _post(self, url: str, receipts: list[dict[str, Any]]) -> None:
        body = orjson.dumps({"receipts": receipts})
        stats = self.vendor.stats
        for attempt in range(self.policy.max_attempts):
            now = int(time.time())
            headers = {
                "content-type": "application/json",
                TIMESTAMP_HEADER: str(now),
                SIGNATURE_HEADER: sign(self.policy.secret, body, now),
            }
            async with self._slots:
                stats["callback_attempts"] += 1
                try:
                    response = await self.client.post(url, content=body, headers=headers)
                    status = response.status_code
                except httpx.HTTPError as exc:
                    status, response = 0, None
                    log.info("vendor.callback_unreachable", error=str(exc), attempt=attempt)
            if 200 <= status < 300:
                stats["receipts_posted"] += len(receipts)
                return
            stats["callback_failures"] += 1
            if status and 400 <= status < 500 and status != 429:
                log.warning("vendor.callback_refused", status=status, count=len(receipts))
                stats["receipts_dropped"] += len(receipts)
                return
            await asyncio.sleep(self._delay(attempt, response))
        log.error("vendor.callback_gave_up", count=len(receipts), attempts=self.policy.max_attempts)
        stats["receipts_dropped"] += len(receipts)

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), self.policy.retry_cap_s)
        ceiling = min(self.policy.retry_cap_s, self.policy.retry_base_s * 2.0**attempt)
        return ceiling / 2 + self._jitter.uniform(0, ceiling / 2)
