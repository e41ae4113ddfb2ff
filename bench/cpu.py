"""Where the cores went during a phase: CPU per process and for the whole machine.

A latency figure on a 2-core machine depends on everything else that ran meanwhile (the
stream workers, the database server, the load generator itself), so the phase's own
CPU accounting is written beside it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from bench.memory import PROC, cpu_seconds


def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot; idle and iowait are not busy."""
    fields = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])  # guest time is already counted in user
    return total - fields[3] - fields[4], total


def _cpu_or_none(pid: int) -> float | None:
    try:
        return cpu_seconds(pid)
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class PhaseCpu:
    """Snapshot at construction; ``cores()`` and ``describe()`` cover the time since."""

    pids: dict[str, int]
    started: float = field(default_factory=time.perf_counter)
    _before: dict[str, float | None] = field(default_factory=dict)
    _machine: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        self.pids = {**self.pids, "load generator": os.getpid()}
        self._before = {name: _cpu_or_none(pid) for name, pid in self.pids.items()}
        self._machine = _machine_jiffies()

    def cores(self) -> dict[str, float]:
        """Cores each process used on average (CPU seconds / wall seconds), busiest first."""
        wall = max(time.perf_counter() - self.started, 1e-9)
        used = {}
        for name, pid in self.pids.items():
            before, after = self._before.get(name), _cpu_or_none(pid)
            if before is not None and after is not None:
                used[name] = (after - before) / wall
        return dict(sorted(used.items(), key=lambda item: -item[1]))

    def machine_busy_cores(self) -> float:
        busy, total = _machine_jiffies()
        d_busy, d_total = busy - self._machine[0], total - self._machine[1]
        return (os.cpu_count() or 1) * d_busy / d_total if d_total else 0.0

    def describe(self, top: int = 7) -> str:
        cores = self.cores()
        listed = ", ".join(f"{name} {used:.2f}" for name, used in list(cores.items())[:top])
        return (
            f"CPU during the phase, in cores: {listed}; the machine busy "
            f"{self.machine_busy_cores():.2f} of {os.cpu_count()} cores"
        )

    def per_item_ms(self, items: int, item: str = "item", prefix: str = "nx-27017") -> str:
        """CPU per ``item`` (message, record) so far: the database servers (the
        processes named ``prefix``...) and the rest of the machine, in ms."""
        wall = time.perf_counter() - self.started
        servers = sum(v for k, v in self.cores().items() if k.startswith(prefix)) * wall
        machine = self.machine_busy_cores() * wall
        per = 1000 / max(items, 1)
        return (
            f"CPU per {item}, ms: database servers {servers * per:.3f}, the rest of the "
            f"machine {max(machine - servers, 0.0) * per:.3f}"
        )
