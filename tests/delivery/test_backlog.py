"""The send worker's brake, against real Redis: it waits while the receipt group is behind."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from libs.common.events import MessagesCancelled
from libs.common.streams import ensure_group
from libs.common.streams.names import RECEIPT
from services.delivery.backlog import receipt_backlog, wait_for_receipts
from tests.delivery.conftest import chunk, publish, recipients, run

pytestmark = pytest.mark.integration


def behind(deps, entries: int) -> None:
    """The receipt group with ``entries`` entries it has not handled (nothing to write)."""
    ensure_group(deps.redis, RECEIPT, "receipt")
    now = datetime.now(UTC)
    publish(
        deps,
        [MessagesCancelled(campaign_id="b", customer_ids=[f"{i}"], at=now) for i in range(entries)],
    )


def test_the_backlog_counts_what_the_receipt_group_has_not_handled(deps) -> None:
    assert receipt_backlog(deps.redis) is None  # no group yet: nothing to wait for
    behind(deps, 3)
    assert receipt_backlog(deps.redis) == 3
    run(deps, "receipt")
    assert receipt_backlog(deps.redis) == 0


def test_the_wait_ends_when_the_receipt_worker_catches_up_or_at_the_limit(deps) -> None:
    behind(deps, 3)
    assert wait_for_receipts(deps.redis, limit=3, max_wait_s=5) < 0.1
    assert wait_for_receipts(deps.redis, limit=0, max_wait_s=5) == 0  # 0: never waits
    assert 0.3 <= wait_for_receipts(deps.redis, limit=2, max_wait_s=0.3) < 1
    catch_up = threading.Timer(0.4, lambda: run(deps, "receipt"))
    catch_up.start()
    waited = wait_for_receipts(deps.redis, limit=1, max_wait_s=10)
    catch_up.join()
    assert 0.4 <= waited < 5


def test_the_send_worker_reads_on_only_once_the_receipts_are_caught_up(deps, vendor) -> None:
    deps.settings.receipt_backlog_max = 2
    deps.settings.receipt_backlog_wait_s = 10
    behind(deps, 3)
    publish(deps, [chunk("b1", recipients(2))])
    catch_up = threading.Timer(0.5, lambda: run(deps, "receipt"))
    catch_up.start()
    started = time.monotonic()
    assert run(deps, "send") == 1
    assert time.monotonic() - started >= 0.5
    catch_up.join()  # its read must end before the next test deletes the streams


def test_a_lag_that_counts_entries_no_longer_there_does_not_hold_the_brake(deps) -> None:
    behind(deps, 3)
    run(deps, "receipt")
    # what Redis keeps after a restart or deletions can leave the group's entries-read
    # behind what it read: its lag then counts entries that are not there
    deps.redis.execute_command("XGROUP", "SETID", RECEIPT, "receipt", "$", "ENTRIESREAD", 0)
    [info] = deps.redis.xinfo_groups(RECEIPT)
    assert info["lag"] == 3, "the phantom lag this test is about"
    assert receipt_backlog(deps.redis) == 0
    assert wait_for_receipts(deps.redis, limit=1, max_wait_s=5) < 0.1
    behind(deps, 2)  # with entries unread, the lag counts as Redis tells it
    assert receipt_backlog(deps.redis) == 5
