"""A message handed to the vendor by one send entry is not sent again by another entry
that carries it in another chunk, even before its row is written (a journey step run
again after a crash republishes its messages grouped differently)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.delivery.conftest import chunk, publish, recipients, rows, run, vendor_stats

pytestmark = pytest.mark.integration


def test_the_same_message_in_another_chunk_is_not_sent_twice(deps: Any, vendor: Any) -> None:
    people = recipients(6)
    publish(deps, [chunk("jrn_a.s.1", people[:4], number=1)])
    run(deps, "send")  # no receipt worker yet: no rows exist
    assert rows(deps, "jrn_a.s.1") == {}
    publish(deps, [chunk("jrn_a.s.1", people[2:], number=2)])  # cu2, cu3 again
    run(deps, "send")
    run(deps, "receipt")
    assert len(rows(deps, "jrn_a.s.1")) == 6
    assert vendor_stats(vendor)["accepted"] == 6
    assert vendor_stats(vendor)["duplicateClientRefs"] == 0
