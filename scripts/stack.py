"""The local stack's process table: every service API and worker group, and the
environment that wires them together. Used by `make run`, the end-to-end tests and the
benchmarks, so all three run exactly the same processes."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

DEFAULT_PORTS = {
    "gateway": 8000,
    "ingest": 8001,
    "campaign": 8002,
    "delivery": 8003,
    "vendor_sim": 8004,
    "ai": 8005,
}


@dataclass(frozen=True)
class Process:
    name: str
    argv: tuple[str, ...]
    port: int | None = None  # APIs only
    replicas_key: str | None = None  # worker group name, for replica scaling


@dataclass
class StackLayout:
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    replicas: int = 1
    host: str = "127.0.0.1"

    def url(self, service: str) -> str:
        return f"http://{self.host}:{self.ports[service]}"

    def wiring_env(self) -> dict[str, str]:
        """How the services find each other."""
        return {
            "GATEWAY_INGEST_URL": self.url("ingest"),
            "CAMPAIGN_INGEST_URL": self.url("ingest"),
            "GATEWAY_CAMPAIGN_URL": self.url("campaign"),
            "GATEWAY_DELIVERY_URL": self.url("delivery"),
            "GATEWAY_AI_URL": self.url("ai"),
            "GATEWAY_PUBLIC_URL": self.url("gateway"),
            "DELIVERY_PUBLIC_URL": self.url("gateway"),
            "DELIVERY_VENDOR_URL": self.url("vendor_sim"),
            "DELIVERY_RECEIPT_CALLBACK_URL": f"{self.url('gateway')}/api/deliveries/receipts",
        }

    def processes(self) -> list[Process]:
        py = sys.executable
        procs = [
            Process(
                f"{name}-api",
                (
                    py,
                    "-m",
                    "uvicorn",
                    "--factory",
                    f"services.{name}.app:create_app",
                    "--host",
                    self.host,
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                    # The gateway reads X-Forwarded-* itself (services/gateway/forwarded.py).
                    *(("--no-proxy-headers",) if name == "gateway" else ()),
                ),
                port=port,
            )
            for name, port in self.ports.items()
        ]
        workers = [
            ("ingest-worker", "services.ingest.worker", ("ingest", "consent", "pacing")),
            ("segment-worker", "services.ingest.worker", ("segment",)),
            ("campaign-worker", "services.campaign.worker", ()),
            ("journey-worker", "services.campaign.worker", ("journeys",)),
            ("send-worker", "services.delivery.worker", ("send",)),
            ("receipt-worker", "services.delivery.worker", ("receipt",)),
            ("delivery-control-worker", "services.delivery.worker", ("control", "consent")),
            ("ai-worker", "services.ai.worker", ()),
        ]
        for name, module, args in workers:
            for replica in range(self.replicas):
                suffix = f"-{replica + 1}" if self.replicas > 1 else ""
                procs.append(
                    Process(f"{name}{suffix}", (py, "-m", module, *args), replicas_key=name)
                )
        return procs
