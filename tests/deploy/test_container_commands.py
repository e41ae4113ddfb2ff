"""Every container's command, run as the image runs it (deploy/docker-entrypoint.sh with
the compose environment, ENVIRONMENT=production), against the real test Redis and DB:
APIs become ready, workers open the metrics port their health check asks, the image's
health check passes, and SIGTERM ends each process cleanly."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from libs.common.testing.pytest_plugin import CleanEnv
from tests.deploy.manifests import ROOT, compose_services, stack_processes

pytestmark = pytest.mark.integration

ENTRYPOINT = ROOT / "deploy" / "docker-entrypoint.sh"
HEALTHCHECK = ROOT / "deploy" / "healthcheck.py"
STARTUP_S = 45.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Container:
    name: str
    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    log: Path
    api_port: int | None

    def health_check_passes(self) -> bool:
        """The image's HEALTHCHECK command, run with the container's environment."""
        check = subprocess.run(
            [sys.executable, str(HEALTHCHECK)], env=self.env, capture_output=True, timeout=10
        )
        return check.returncode == 0

    def ready(self) -> bool:
        """Cheap in-process polling while everything starts (the machine may be busy)."""
        if self.api_port is None:
            url = self.env["HEALTHCHECK_URL"]
        else:
            url = f"http://127.0.0.1:{self.api_port}/readyz"
        try:
            return httpx.get(url, timeout=3).is_success
        except httpx.TransportError:
            return False


def container_env(name: str, clean_env: CleanEnv) -> tuple[dict[str, str], int | None]:
    """The compose environment of one service, made runnable on this machine."""
    declared = {str(k): str(v) for k, v in compose_services()[name]["environment"].items()}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "DELIVERY_"))}
    for key, value in declared.items():
        if value.startswith("${"):  # a secret compose takes from .env
            value = f"test-{key.lower()}"
        # compose service names -> this machine (the peers are not running; nothing
        # here needs them to become ready)
        env[key] = re.sub(r"http://[a-z_]+:(\d+)", r"http://127.0.0.1:\1", value)
    env.update(
        REDIS_URL=clean_env.redis_url,
        MONGODB_URI=clean_env.mongo_uri,
        DB_PREFIX=clean_env.db_prefix,
        LOG_LEVEL="WARNING",
        STREAM_BLOCK_MS="200",
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}",
        PYTHONPATH=str(ROOT),
    )
    # free ports instead of the fixed in-container ones (9100, 8000..8005)
    api_port = None
    if "HEALTHCHECK_URL" in declared:
        (metrics_var,) = [k for k in declared if k.endswith("METRICS_PORT")]
        port = free_port()
        env[metrics_var] = str(port)
        env["HEALTHCHECK_URL"] = f"http://127.0.0.1:{port}/metrics"
    else:
        api_port = free_port()
        env["PORT"] = str(api_port)
    assert env["ENVIRONMENT"] == "production"
    return env, api_port


def test_every_container_command_starts_healthy_in_production_and_stops_on_sigterm(
    clean_env: CleanEnv, tmp_path: Path
) -> None:
    containers: list[Container] = []
    try:
        for proc in stack_processes():
            env, api_port = container_env(proc.name, clean_env)
            env["SERVICE"] = proc.service
            log = tmp_path / f"{proc.name}.log"
            with log.open("wb") as out:
                popen = subprocess.Popen(
                    ["sh", str(ENTRYPOINT), *proc.command],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=tmp_path,
                )
            containers.append(Container(proc.name, popen, env, log, api_port))

        waiting = {c.name: c for c in containers}
        deadline = time.monotonic() + STARTUP_S
        while waiting and time.monotonic() < deadline:
            for name, container in list(waiting.items()):
                if container.proc.poll() is not None:
                    pytest.fail(f"{name} exited: {container.log.read_text()[-2000:]}")
                if container.ready():
                    del waiting[name]
            time.sleep(0.3)
        assert not waiting, "never healthy: " + "; ".join(
            f"{n}: {c.log.read_text()[-800:]}" for n, c in waiting.items()
        )

        failing = [c.name for c in containers if not c.health_check_passes()]
        assert not failing, f"the image's health check fails for {failing}"

        for container in containers:
            container.proc.send_signal(signal.SIGTERM)
        codes = {}
        for container in containers:
            try:
                codes[container.name] = container.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                codes[container.name] = None
        # uvicorn re-raises the signal after its graceful shutdown (exit by SIGTERM, 143 in
        # a container); workers finish their batch and exit 0.
        apis = {c.name for c in containers if c.api_port is not None}
        unclean = {
            n: c for n, c in codes.items() if c not in ((0, -signal.SIGTERM) if n in apis else (0,))
        }
        assert not unclean, f"did not stop cleanly on SIGTERM: {unclean}"
    finally:
        for container in containers:
            if container.proc.poll() is None:
                container.proc.kill()
                container.proc.wait()
