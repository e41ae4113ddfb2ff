"""A six-node Redis Cluster (three masters, three replicas) on loopback, for tests.

Six ``redis-server --cluster-enabled yes`` processes on free ports, joined with
``redis-cli --cluster create --cluster-replicas 1``. Only the processes started here
are ever stopped or killed (by their own pid).
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from libs.common.testing.servers import redis_argv, wait_for_port

CLUSTER_SIZE = 6
_BUS_OFFSET = 10_000  # the cluster bus listens on port + 10000


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_ports(count: int = CLUSTER_SIZE) -> list[int]:
    """Free ports whose bus ports (port + 10000) are free too, below the kernel's
    ephemeral range so that no outgoing connection takes one meanwhile."""
    rng = random.Random()
    ports: list[int] = []
    while len(ports) < count:
        port = rng.randrange(15_000, 22_000)
        if port not in ports and _port_free(port) and _port_free(port + _BUS_OFFSET):
            ports.append(port)
    return ports


@dataclass
class RedisClusterProcs:
    """The running nodes: port -> process. ``url`` names the whole cluster. ``aof``:
    each node keeps an append-only file (a node killed and restarted keeps its data)."""

    workdir: Path
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    aof: bool = True

    @property
    def ports(self) -> list[int]:
        return sorted(self.procs)

    def pids(self) -> dict[str, int]:
        """``redis-cluster-<port>`` -> pid of each running node."""
        return {f"redis-cluster-{port}": proc.pid for port, proc in sorted(self.procs.items())}

    @property
    def url(self) -> str:
        seeds = ",".join(f"127.0.0.1:{p}" for p in self.ports[:3])
        return f"redis+cluster://{seeds}"

    def start(self, port: int) -> None:
        node_dir = self.workdir / str(port)
        argv = redis_argv(port, node_dir, aof=self.aof) + [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            str(node_dir / "nodes.conf"),
            "--cluster-node-timeout",
            "1500",
            # a replica promotes however long it was cut off: the test kills masters
            "--cluster-replica-validity-factor",
            "0",
        ]
        self.procs[port] = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(port)

    def kill(self, port: int) -> None:
        """SIGKILL one node: the crash a failover test wants."""
        proc = self.procs[port]
        proc.kill()
        proc.wait()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def cli(self, port: int, *args: str) -> str:
        out = subprocess.run(
            [_redis_cli(), "-p", str(port), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return out.stdout

    def live(self) -> list[int]:
        return sorted(p for p, proc in self.procs.items() if proc.poll() is None)

    def role(self, port: int) -> str:
        """ "master" or "slave", as the node itself says (ROLE)."""
        return self.cli(port, "role").split("\n", 1)[0].strip()

    def replicas_in_sync(self) -> bool:
        """Every live replica's link to its master is up (initial sync done)."""
        for port in self.live():
            info = self.cli(port, "info", "replication")
            if "role:slave" in info and "master_link_status:up" not in info:
                return False
        return True

    def masters(self) -> list[int]:
        """Ports of the live masters that serve slots (each with a replica once healthy)."""
        return [p for p in self.live() if self.role(p) == "master"]

    def wait_healthy(self, timeout: float = 30.0, masters: int = 3) -> None:
        """Until every live node reports cluster_state:ok, all slots are covered and
        ``masters`` nodes are masters (the rest their replicas)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                infos = [self.cli(p, "cluster", "info") for p in self.live()]
                roles_ok = len(self.masters()) == masters and self.replicas_in_sync()
            except subprocess.SubprocessError:
                infos, roles_ok = [], False
            if (
                roles_ok
                and infos
                and all("cluster_state:ok" in i and "cluster_slots_ok:16384" in i for i in infos)
            ):
                return
            time.sleep(0.2)
        raise TimeoutError("the Redis Cluster did not become healthy")


def _redis_cli() -> str:
    binary = shutil.which("redis-cli")
    if binary is None:
        raise RuntimeError("redis-cli is not installed (apt-get install -y redis-tools)")
    return binary


@contextmanager
def local_redis_cluster(workdir: Path, *, aof: bool = True) -> Iterator[RedisClusterProcs]:
    """Start six nodes, join them as three masters with one replica each, yield."""
    cluster = RedisClusterProcs(workdir, aof=aof)
    try:
        for port in cluster_ports():
            cluster.start(port)
        nodes = [f"127.0.0.1:{p}" for p in cluster.ports]
        subprocess.run(
            [_redis_cli(), "--cluster", "create", *nodes, "--cluster-replicas", "1"],
            input="yes\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        cluster.wait_healthy()
        yield cluster
    finally:
        cluster.stop()
