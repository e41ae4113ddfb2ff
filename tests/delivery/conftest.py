"""Fixtures of the delivery tests: a real vendor simulator process, delivery
dependencies on the test's own Redis database and MongoDB database, burst consumers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from libs.common.events import Event, Recipient, SendRequested
from libs.common.events.base import decode
from libs.common.redis_client import make_redis
from libs.common.streams import StreamProducer
from libs.common.testing.pytest_plugin import ROOT, wait_ready_url
from libs.common.testing.servers import free_port
from services.delivery.context import Deps
from services.delivery.settings import DeliverySettings
from services.delivery.worker import build_deps, make_consumers

WEBHOOK_SECRET = "test-webhook-secret"


def vendor_env(**extra: str) -> dict[str, str]:
    return {
        "VENDOR_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "VENDOR_SEED": "5",
        "VENDOR_LATENCY_MS": "30",
        "VENDOR_LATENCY_JITTER_MS": "10",
        "VENDOR_CALLBACK_RETRY_BASE_MS": "50",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


@dataclass
class VendorProcess:
    url: str
    proc: subprocess.Popen[bytes]


@pytest.fixture(scope="session")
def _vendor_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VendorProcess]:
    """One vendor simulator process for the whole session, reset before each test."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("vendor") / "vendor.log", "wb")  # noqa: SIM115
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "services.vendor_sim.app:create_app"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    env = {**os.environ, **vendor_env(), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready_url(f"{url}/readyz")
        yield VendorProcess(url, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture
def vendor(_vendor_process: VendorProcess) -> VendorProcess:
    httpx.post(f"{_vendor_process.url}/vendor/reset").raise_for_status()
    return _vendor_process


def vendor_stats(vendor: Any) -> dict[str, Any]:
    return httpx.get(f"{vendor.url}/vendor/stats").json()


def vendor_control(vendor: Any, **controls: Any) -> None:
    httpx.post(f"{vendor.url}/vendor/control", json=controls).raise_for_status()


@pytest.fixture
def settings(clean_env: Any, vendor: Any) -> DeliverySettings:
    return DeliverySettings(
        VENDOR_WEBHOOK_SECRET=WEBHOOK_SECRET,
        vendor_url=vendor.url,
        receipt_callback_url="http://127.0.0.1:9/unused",
        vendor_batch_size=100,
        vendor_max_retries=3,
        vendor_retry_base_ms=20,
        vendor_retry_cap_ms=200,
        vendor_timeout_s=5,
        rate_limit_per_s=0,
        campaign_rate_limit_per_s=0,
        autopause_window=20,
        autopause_failure_rate=0.5,
        receipt_retry_s=0.05,
    )


@pytest.fixture
def deps(settings: DeliverySettings, clean_env: Any) -> Iterator[Deps]:
    client = make_redis(settings.redis_url, block_ms=settings.stream_block_ms)
    http = httpx.Client(base_url=settings.vendor_url, timeout=settings.vendor_timeout_s)
    built = build_deps(settings, client, clean_env.mongo, http)
    built.store.ensure_indexes()
    yield built
    http.close()
    client.close()


def run(deps: Deps, role: str) -> int:
    """Run one role's consumer until nothing is left; return how many entries it handled."""
    return make_consumers(deps, [role])[0].run(burst=True)


def publish(deps: Deps, events: Sequence[Event]) -> list[str]:
    return StreamProducer(deps.redis).publish(events)


def read_stream(deps: Deps, stream: str) -> list[Event]:
    return [decode(i.decode(), f) for i, f in deps.redis.xrange(stream)]


def recipients(n: int, start: int = 0, **overrides: Any) -> list[Recipient]:
    return [
        Recipient(
            customer_id=f"cu{i}",
            name=f"Person{i} Last",
            email=f"p{i}@example.com",
            phone=f"+1555{i:07d}",
            fields={"totalSpends": 100.0 + i},
            **overrides,
        )
        for i in range(start, start + n)
    ]


def chunk(campaign_id: str, people: list[Recipient], number: int = 0, **kw: Any) -> SendRequested:
    message = kw.pop("message", "Hi {firstName}, you spent {totalSpends}")
    return SendRequested(
        campaign_id=campaign_id, message=message, chunk=number, recipients=people, **kw
    )


def rows(deps: Deps, campaign_id: str) -> dict[str, dict[str, Any]]:
    return {d["_id"]: d for d in deps.store.comms.find({"campaign_id": campaign_id})}


def send_and_record(deps: Deps) -> int:
    """The send worker, then the receipt worker, which writes the rows of the messages
    the send worker announced; returns how many send entries were handled."""
    handled = run(deps, "send")
    run(deps, "receipt")
    return handled
