"""Servers a fault test can stop and start again on the same port and data."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from libs.common.testing.servers import free_port, wait_for_port


@dataclass
class RestartableServer:
    argv: list[str]
    port: int
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def redis_with_aof(workdir: Path) -> RestartableServer:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    binary = shutil.which("redis-server") or "redis-server"
    argv = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--dir",
        str(workdir),
    ]
    return RestartableServer(argv, port)


def embedded_mongo(workdir: Path) -> RestartableServer:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    binary = str(Path(sys.executable).parent / "nx-27017")
    argv = [
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
    return RestartableServer(argv, port)
