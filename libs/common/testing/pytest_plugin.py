"""Pytest fixtures: real servers per session, clean streams and databases per test.

``redis_url``/``mongo_uri`` are session-wide servers; ``clean_env`` gives each test a
flushed Redis database and a fresh database prefix, and ``settings_env`` the
environment variables a service process needs to use them.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from libs.common.logging import configure_logging
from libs.common.mongo import make_client
from libs.common.redis_client import make_redis
from libs.common.testing.cluster import RedisClusterProcs, local_redis_cluster
from libs.common.testing.servers import (
    container_mongo,
    container_redis,
    docker_available,
    free_port,
    local_mongo,
    local_redis,
)

ROOT = Path(__file__).resolve().parents[3]
_prefix_counter = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    """Handlers run in the test process log as the services do: JSON lines with a plain
    traceback. structlog's default console renderer draws every local of every frame
    of a traceback, which took ~5 s per exception on a loaded machine: longer than the
    stream tests' visibility timeouts, so entries were claimed while still in hand."""
    configure_logging("tests")


@pytest.fixture(scope="session")
def _servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with ExitStack() as stack:
        if os.environ.get("CRM_TEST_REDIS_URL") and os.environ.get("CRM_TEST_MONGODB_URI"):
            yield {
                "redis": os.environ["CRM_TEST_REDIS_URL"],
                "mongo": os.environ["CRM_TEST_MONGODB_URI"],
            }
            return
        if docker_available():
            urls = {
                "redis": stack.enter_context(container_redis()),
                "mongo": stack.enter_context(container_mongo()),
            }
        else:
            base = tmp_path_factory.mktemp("servers")
            urls = {
                "redis": stack.enter_context(local_redis(base / "redis")),
                "mongo": stack.enter_context(local_mongo(base / "mongo")),
            }
        yield urls


@pytest.fixture(scope="session")
def redis_url(_servers: dict[str, str]) -> str:
    return _servers["redis"]


@pytest.fixture(scope="session")
def mongo_uri(_servers: dict[str, str]) -> str:
    return _servers["mongo"]


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, socket_timeout=30)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterProcs]:
    """Six cluster-mode redis-servers (three masters, three replicas) for the session.

    Tests that kill a node start their own with ``local_redis_cluster`` instead."""
    with local_redis_cluster(tmp_path_factory.mktemp("redis-cluster")) as cluster:
        yield cluster


@pytest.fixture
def cluster_client(redis_cluster: RedisClusterProcs) -> Iterator[redis.Redis]:
    """A cluster client on emptied masters (``REDIS_URL`` form: ``redis_cluster.url``)."""
    client = make_redis(redis_cluster.url)
    client.flushall(target_nodes="primaries")
    yield client
    client.close()


@pytest.fixture
def db_prefix() -> str:
    return f"t{os.getpid()}_{next(_prefix_counter)}_"


@pytest.fixture
def mongo_client(mongo_uri: str) -> Iterator[Any]:
    client = make_client(mongo_uri)
    yield client
    client.close()


@dataclass
class CleanEnv:
    """Everything a test needs to point a service (in-process or a subprocess) at the
    test's own Redis database and database prefix."""

    redis_url: str
    mongo_uri: str
    db_prefix: str
    redis: redis.Redis
    mongo: Any
    internal_token: str = "test-internal-token"
    extra: dict[str, str] = field(default_factory=dict)

    def env(self, **overrides: str) -> dict[str, str]:
        values = {
            "ENVIRONMENT": "development",
            "REDIS_URL": self.redis_url,
            "MONGODB_URI": self.mongo_uri,
            "DB_PREFIX": self.db_prefix,
            "INTERNAL_TOKEN": self.internal_token,
            "LOG_LEVEL": "WARNING",
            "STREAM_BLOCK_MS": "200",
            "STREAM_CLAIM_INTERVAL_S": "1",
            "STREAM_VISIBILITY_TIMEOUT_MS": "3000",
        }
        values.update(self.extra)
        values.update(overrides)
        return values

    def db(self, service: str) -> Any:
        return self.mongo[f"{self.db_prefix}{service}"]


@pytest.fixture
def clean_env(
    redis_client: redis.Redis, mongo_client: Any, redis_url: str, mongo_uri: str, db_prefix: str
) -> Iterator[CleanEnv]:
    env = CleanEnv(redis_url, mongo_uri, db_prefix, redis_client, mongo_client)
    saved = {k: os.environ.get(k) for k in env.env()}
    os.environ.update(env.env())
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    for name in mongo_client.list_database_names():
        if name.startswith(db_prefix):
            with suppress(Exception):
                mongo_client.drop_database(name)


@dataclass
class ServiceProcess:
    """A service API or worker run as a real process."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


ProcessFactory = Callable[..., ServiceProcess]


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[ProcessFactory]:
    """Start ``python -m module`` or a uvicorn app factory as a subprocess.

    ``spawn("ingest-api", app="services.ingest.app:create_app", env=...)`` waits for
    /readyz; ``spawn("ingest-worker", module="services.ingest.worker", args=[...])``.
    """
    started: list[ServiceProcess] = []

    def _spawn(
        name: str,
        *,
        env: dict[str, str],
        app: str | None = None,
        module: str | None = None,
        args: list[str] | None = None,
        port: int | None = None,
        wait_ready: bool = True,
    ) -> ServiceProcess:
        log_path = tmp_path / f"{name}-{len(started)}.log"
        full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        if app:
            port = port or free_port()
            cmd = [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                app,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ]
        else:
            cmd = [sys.executable, "-m", str(module), *(args or [])]
        log_file = open(log_path, "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            cmd, env=full_env, stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT
        )
        service = ServiceProcess(name, proc, log_path, port)
        started.append(service)
        if app and wait_ready:
            wait_ready_url(f"{service.url}/readyz", service)
        return service

    yield _spawn
    for service in started:
        service.stop(timeout=5)


def wait_ready_url(url: str, service: ServiceProcess | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if service is not None and service.proc.poll() is not None:
            raise RuntimeError(f"{service.name} exited early:\n{service.logs()[-3000:]}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.1)
    logs = service.logs()[-3000:] if service else ""
    raise TimeoutError(f"{url} not ready after {timeout}s: {last}\n{logs}")


def wait_until(predicate: Callable[[], Any], timeout: float = 30, interval: float = 0.1) -> Any:
    """Poll until predicate() is truthy; return its value or fail with a clear message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
