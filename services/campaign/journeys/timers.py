"""The timer worker: customers whose wait is due go on, durably.

Every waiting customer's due time is in ``journey_states`` (indexed by status and due
time): nothing waits in memory, so a restart of any process, or of Redis, loses no
timer. A pass leases up to ``batch`` due states (services.campaign.journeys.store
``claim_due``): a state leased by a worker that was killed is free again once its lease
ran out, and is taken over. The step after the wait then runs: its sends are published
first, the new states written after, only where the lease still holds. A crash between
the two runs the step again after the lease, with the same message ids (journey, step,
entry, customer): delivery sends each at most once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from libs.common.background import run_every
from libs.common.logging import get_logger
from libs.common.streams import StreamProducer
from services.campaign.clock import to_ms, utc_now
from services.campaign.journeys.catalog import Catalog
from services.campaign.journeys.runner import Send, resume
from services.campaign.journeys.sends import publish_sends
from services.campaign.journeys.store import EXITED, JourneyStore

log = get_logger(__name__)


@dataclass
class TimerDeps:
    store: JourneyStore
    catalog: Catalog
    producer: StreamProducer
    workspace_zone: str
    lease_ms: int = 30_000
    batch: int = 500
    paused_retry_ms: int = 10_000


def run_due(deps: TimerDeps, now: datetime | None = None) -> int:
    """One pass: lease what is due, move it on. Returns how many states were leased."""
    now = now or utc_now()
    token, states = deps.store.claim_due(to_ms(now), deps.lease_ms, deps.batch)
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
            status = statuses[jid]
            held = dict(state)
            if status == "paused":  # waits on, looked at again later
                held["lease_ms"] = to_ms(now) + deps.paused_retry_ms
            else:
                held.update(status=EXITED, due_ms=0, lease_ms=0, updated_ms=to_ms(now))
            written.append(held)
            continue
        moved = resume(
            journey, state, customers.get(state["customer_id"]), now, deps.workspace_zone
        )
        if moved.state is not None:
            written.append(moved.state)
            sends += moved.sends
    publish_sends(deps.producer, sends, customers)
    for doc in written:
        doc["lease_token"] = token  # kept: harmless once lease_ms is past
    deps.store.write_leased(written, token)
    log.info("journeys.timers_due", leased=len(states), sends=len(sends))
    return len(states)


def run_timers(deps: TimerDeps, stop: threading.Event, poll_s: float = 0.2) -> None:
    """Until ``stop``: passes back to back while there is work, else every ``poll_s``."""
    run_every(
        lambda: run_due(deps),
        stop,
        poll_s,
        failure_event="journeys.timer_pass_failed",
        again_while_busy=True,
    )
