"""Servers a fault test can stop and start again on the same port and data."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from libs.common.testing.servers import free_port, mongo_argv, redis_argv, wait_for_port


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

    def crash(self) -> None:
        """SIGKILL: no shutdown, no final fsync or save (what a crash leaves behind)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def redis_with_aof(workdir: Path) -> RestartableServer:
    port = free_port()
    return RestartableServer(redis_argv(port, workdir, aof=True), port)


def embedded_mongo(workdir: Path) -> RestartableServer:
    port = free_port()
    return RestartableServer(mongo_argv(port, workdir), port)
