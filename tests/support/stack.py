"""The whole stack as real local processes, for end-to-end, browser and fault tests."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from libs.common.testing.servers import free_port
from scripts.stack import DEFAULT_PORTS, Process, StackLayout

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningStack:
    layout: StackLayout
    env: dict[str, str]
    logdir: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    table: dict[str, Process] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.layout.url("gateway")

    def start(self, name: str) -> None:
        proc = self.table[name]
        log = open(self.logdir / f"{name}.log", "ab")  # noqa: SIM115 - lives with the process
        self.procs[name] = subprocess.Popen(
            proc.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )

    def kill(self, name: str) -> None:
        """SIGKILL: the crash a fault test wants."""
        proc = self.procs[name]
        proc.kill()
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()

    def logs(self, name: str) -> str:
        path = self.logdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_ready(self, timeout: float = 300) -> None:
        """Until every API answers /readyz 200; a process that exits fails at once.

        The bound is for a machine that is busy: twenty interpreters importing at
        once beside two CPU burners and other suites took longer than 90 s."""
        deadline = time.monotonic() + timeout
        waiting = set(self.layout.ports)
        while waiting and time.monotonic() < deadline:
            for service in sorted(waiting):
                name = f"{service}-api"
                if self.procs[name].poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{self.logs(name)[-4000:]}")
                try:
                    url = f"{self.layout.url(service)}/readyz"
                    if httpx.get(url, timeout=2).status_code == 200:
                        waiting.discard(service)
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        if waiting:
            raise TimeoutError(f"not ready: {sorted(waiting)}")

    def client(self) -> httpx.Client:
        """A client signed in through the development login."""
        client = httpx.Client(base_url=self.url, timeout=60, headers={"Origin": self.url})
        response = client.post("/auth/dev-login", json={"email": "e2e@example.com"})
        response.raise_for_status()
        return client


@contextmanager
def running_stack(
    *,
    redis_url: str,
    mongo_uri: str,
    db_prefix: str,
    logdir: Path,
    replicas: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Iterator[RunningStack]:
    layout = StackLayout(ports={name: free_port() for name in DEFAULT_PORTS}, replicas=replicas)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ENVIRONMENT": "development",
        "REDIS_URL": redis_url,
        "MONGODB_URI": mongo_uri,
        "DB_PREFIX": db_prefix,
        "AUTH_DEV_LOGIN": "true",
        "LOG_LEVEL": "WARNING",
        "STREAM_BLOCK_MS": "500",
        "STREAM_CLAIM_INTERVAL_S": "2",
        "STREAM_VISIBILITY_TIMEOUT_MS": "5000",
        "VENDOR_LATENCY_MS": "50",
        "INGEST_SNAPSHOT_DIR": str(logdir / "snapshots"),  # the read model's, per stack
        **layout.wiring_env(),
        **(extra_env or {}),
    }
    logdir.mkdir(parents=True, exist_ok=True)
    stack = RunningStack(layout, env, logdir)
    stack.table = {p.name: p for p in layout.processes()}
    try:
        for name in stack.table:
            stack.start(name)
        # a machine busy with other stacks can take longer than 90 s to start all 13
        stack.wait_ready(float(os.environ.get("CRM_STACK_READY_TIMEOUT_S", "240")))
        yield stack
    finally:
        stack.stop_all()
