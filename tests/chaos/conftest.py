from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.support.cpu_burn import burners_wanted, cpu_burn


@pytest.fixture(scope="module", autouse=True)
def _busy_machine() -> Iterator[None]:
    """CRM_TEST_CPU_BURN=N: N busy CPU processes for the whole module (stack included)."""
    wanted = burners_wanted()
    if not wanted:
        yield
        return
    with cpu_burn(wanted) as pids:
        sys.stdout.write(f"\n[chaos] CPU burners running: {wanted} (pids {pids})\n")
        yield
