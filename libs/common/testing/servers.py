"""Real Redis and a real MongoDB-wire server for tests and the local stack.

Where a Docker engine answers, testcontainers runs mongo:7 and redis:7; otherwise a
local ``redis-server`` and the embedded ``nx-27017`` server run on free ports.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def docker_available() -> bool:
    if os.environ.get("CRM_TEST_NO_DOCKER") or not shutil.which("docker"):
        return False
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def redis_argv(port: int, workdir: Path, *, aof: bool = False) -> list[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
    workdir.mkdir(parents=True, exist_ok=True)
    return [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes" if aof else "no",
        "--appendfsync",
        "everysec",
        "--dir",
        str(workdir),
    ]


def mongo_argv(port: int, workdir: Path) -> list[str]:
    binary = shutil.which("nx-27017") or str(Path(sys.executable).parent / "nx-27017")
    workdir.mkdir(parents=True, exist_ok=True)
    return [
        binary,
        "--data-dir",
        str(workdir / "data"),
        "-p",
        str(port),
        "--log-file",
        str(workdir / "nx.log"),
        "--pid-file",
        str(workdir / "nx.pid"),
    ]


@contextmanager
def _serving(argv: list[str], port: int, url: str) -> Iterator[str]:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield url
    finally:
        _terminate(proc)


@contextmanager
def local_redis(workdir: Path, port: int | None = None, *, aof: bool = False) -> Iterator[str]:
    port = port or free_port()
    with _serving(redis_argv(port, workdir, aof=aof), port, f"redis://127.0.0.1:{port}/0") as url:
        yield url


@contextmanager
def local_mongo(workdir: Path, port: int | None = None) -> Iterator[str]:
    port = port or free_port()
    with _serving(mongo_argv(port, workdir), port, f"mongodb://127.0.0.1:{port}") as url:
        yield url


@contextmanager
def container_redis() -> Iterator[str]:
    from testcontainers.redis import RedisContainer

    with RedisContainer("redis:7") as container:
        host = container.get_container_host_ip()
        yield f"redis://{host}:{container.get_exposed_port(6379)}/0"


@contextmanager
def container_mongo() -> Iterator[str]:
    from testcontainers.mongodb import MongoDbContainer

    with MongoDbContainer("mongo:7") as container:
        yield container.get_connection_url()
