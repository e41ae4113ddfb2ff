"""Busy CPU processes beside a test: the loaded machine a fault test must survive.

Opt-in: ``CRM_TEST_CPU_BURN=2 pytest tests/chaos`` runs two processes that spin at
full speed for as long as the module runs. Real processes, not threads, so the kernel
schedules them against the stack exactly as it would another engineer's tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "CRM_TEST_CPU_BURN"
_SPIN = "while True:\n    pass\n"


def burners_wanted() -> int:
    value = os.environ.get(ENV, "").strip()
    if not value:
        return 0
    count = int(value)
    if count < 0:
        raise ValueError(f"{ENV} must be a number of processes >= 0, not {value!r}")
    return count


@contextmanager
def cpu_burn(processes: int) -> Iterator[list[int]]:
    """Run ``processes`` spinning interpreters; yields their pids; kills exactly them."""
    procs = [
        subprocess.Popen([sys.executable, "-c", _SPIN], stdin=subprocess.DEVNULL)
        for _ in range(processes)
    ]
    try:
        yield [p.pid for p in procs]
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()
