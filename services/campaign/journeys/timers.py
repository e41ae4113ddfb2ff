"""The timer worker: customers whose wait is due go on, durably.

Every waiting customer's due time is in ``journey_states`` (indexed by status and due
time): nothing waits in memory, so a restart of any process, or of Redis, loses no
timer. One journey worker at a time runs the passes: it holds the timer pass
(``TimerPass``, a Redis key with an expiry that each pass renews), and a worker that
was killed is replaced by another once the key expired. A pass reads up to ``batch``
due states, runs the step after the wait, publishes its sends, then writes each new
state only if nobody moved it since the read (``updated_ms``, as read: a conversion
meanwhile wins). A crash between publishing and writing runs the step again on the
next pass with the same message ids (journey, step, entry, customer): delivery sends
each at most once. Should two workers ever run a pass together (Redis lost the key),
the same holds: their sends carry the same ids and one write of each state wins.

Why not a lease per state: leasing is a conditional write of every due state before
its real write, which doubled the database work of a pass (issue #24's timer figure).

The worker's passes write their states on a thread of their own (``StateWriter``):
while one pass's states are written, the next pass reads, runs and publishes, leaving
out the states whose write is under way. One write is in flight at a time; a crash
then loses at most two passes' writes, whose steps run again as above.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from libs.common.background import run_every
from libs.common.logging import get_logger
from libs.common.streams import StreamProducer
from services.campaign.clock import to_ms, utc_now
from services.campaign.journeys.catalog import Catalog
from services.campaign.journeys.runner import Send, resume
from services.campaign.journeys.sends import publish_sends
from services.campaign.journeys.store import EXITED, JourneyStore

log = get_logger(__name__)

Doc = dict[str, Any]

PASS_KEY = "campaign:journeys:timer-pass"

# Take the pass when free, renew it when this worker holds it; 1 when held after.
_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


@dataclass
class TimerPass:
    """Which journey worker runs the timer passes: the holder of one Redis key."""

    client: Any  # redis.Redis or redis.RedisCluster (one key: any node)
    expiry_ms: int
    token: str = field(default_factory=lambda: secrets.token_hex(8))

    def __post_init__(self) -> None:
        self._hold = self.client.register_script(_HOLD)

    def hold(self) -> bool:
        return bool(self._hold(keys=[PASS_KEY], args=[self.token, self.expiry_ms]))


class StateWriter:
    """Writes one pass's states at a time on a thread of its own (see the module's
    docstring); ``in_flight`` names the states of the write under way."""

    def __init__(self, store: JourneyStore) -> None:
        self._store = store
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="journey-states")
        self._pending: Future[None] | None = None
        self.in_flight: frozenset[str] = frozenset()

    def submit(self, docs: Sequence[Doc], expected: dict[str, int | None]) -> None:
        """Write ``docs`` once the write before has ended (its failure raises here)."""
        self.wait()
        self.in_flight = frozenset(d["_id"] for d in docs)
        self._pending = self._pool.submit(self._store.write_states, docs, expected)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        try:
            if pending is not None:
                pending.result()
        finally:
            self.in_flight = frozenset()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown()


@dataclass
class TimerDeps:
    store: JourneyStore
    catalog: Catalog
    producer: StreamProducer
    workspace_zone: str
    timer_pass: TimerPass
    batch: int = 500
    paused_retry_ms: int = 10_000


def run_due(deps: TimerDeps, now: datetime | None = None, writer: StateWriter | None = None) -> int:
    """One pass: move on what is due. Returns how many due states it read (0 when
    another worker holds the pass). Without a ``writer`` the states are written before
    it returns."""
    if not deps.timer_pass.hold():
        return 0
    now = now or utc_now()
    in_flight = writer.in_flight if writer is not None else frozenset()
    states = deps.store.due_states(to_ms(now), deps.batch, excluding=in_flight)
    if not states:
        return 0
    customers = deps.store.customers_of(s["customer_id"] for s in states)
    written = []
    sends: list[Send] = []
    active = deps.catalog.active()
    statuses: dict[str, str] = {}
    for state in states:
        journey = active.get(state["journey_id"])
        if journey is None:
            jid = state["journey_id"]
            if jid not in statuses:
                statuses[jid] = deps.catalog.status(jid) or "archived"
            held = dict(state, updated_ms=to_ms(now))
            if statuses[jid] == "paused":  # waits on, looked at again later
                held["lease_ms"] = to_ms(now) + deps.paused_retry_ms
            else:
                held.update(status=EXITED, due_ms=0, lease_ms=0)
            written.append(held)
            continue
        moved = resume(
            journey, state, customers.get(state["customer_id"]), now, deps.workspace_zone
        )
        if moved.state is not None:
            written.append(moved.state)
            sends += moved.sends
    publish_sends(deps.producer, sends, customers)
    expected = {s["_id"]: s.get("updated_ms") for s in states}
    if writer is None:
        deps.store.write_states(written, expected)
    else:
        writer.submit(written, expected)
    log.info("journeys.timers_due", due=len(states), sends=len(sends))
    return len(states)


def run_timers(deps: TimerDeps, stop: threading.Event, poll_s: float = 0.2) -> None:
    """Until ``stop``: passes back to back while there is work, else every ``poll_s``;
    each pass's states are written while the next one runs."""
    writer = StateWriter(deps.store)
    try:
        run_every(
            lambda: run_due(deps, writer=writer),
            stop,
            poll_s,
            failure_event="journeys.timer_pass_failed",
            again_while_busy=True,
        )
    finally:
        writer.close()
