"""The databases' share of a journey's timer messages: the floor under
``journey_timers_due_per_s``.

A timer message costs the campaign's server a due-state read, a customer read and a
state write (services.campaign.journeys.store, as a timer pass calls it), then an
attribution touch and a read of the customer's orders when its receipt arrives
(services.campaign.attribution_store); it costs delivery's server its row's insert and
receipt update (the raw rows figure's own work, bench/raw.py). Here both sides run
side by side in two processes with those store calls and nothing else: no streams, no
workers, no vendor. The figure says how fast the two servers alone go, and their CPU per
message says how much of the machine is left for the services at a given rate.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pymongo

from bench import raw
from bench.cpu import PhaseCpu
from bench.journeys import insert_waiting
from bench.report import Figure
from libs.common.mongo import count_matching, make_client
from services.campaign.attribution_store import AttributionStore
from services.campaign.journeys.store import COMPLETED, JourneyStore

BATCH = 500  # a timer pass's batch (TimerDeps.batch) and a receipt entry's size
JOURNEY = "jrn_floor"
SEND = "send"


def _campaign_side(uri: str, db_name: str, n: int, start: Any) -> tuple[float, int]:
    client = make_client(uri)
    client.drop_database(db_name)
    journeys = JourneyStore(client, db_name)
    attribution = AttributionStore(client, db_name)
    journeys.ensure_indexes()
    attribution.ensure_indexes()
    now_ms = int(time.time() * 1000)
    insert_waiting(client[db_name], JOURNEY, 0, n, now_ms, due_ms=now_ms - 1)
    campaign_id = f"{JOURNEY}.{SEND}.1"
    start.wait()
    started = time.perf_counter()
    done: set[str] = set()
    while states := journeys.due_states(int(time.time() * 1000), BATCH):
        if again := done.intersection(s["_id"] for s in states):
            raise RuntimeError(f"{len(again)} written states were due again")
        customers = journeys.customers_of(s["customer_id"] for s in states)
        at = int(time.time() * 1000)
        moved = [
            dict(
                s,
                status=COMPLETED,
                position=SEND,
                due_ms=0,
                updated_ms=at,
                path=[*s["path"], SEND],
                sent=[SEND],
            )
            for s in states
            if s["customer_id"] in customers
        ]
        journeys.write_states(moved, {s["_id"]: s["updated_ms"] for s in states})
        touched = [s["customer_id"] for s in moved]
        attribution.set_touches(
            [
                {
                    "_id": f"{campaign_id}:{cid}",
                    "campaign_id": campaign_id,
                    "customer_id": cid,
                    "touched_ms": at,
                }
                for cid in touched
            ]
        )
        attribution.orders_of(touched, at)
        done.update(s["_id"] for s in moved)
    elapsed = time.perf_counter() - started
    client.drop_database(db_name)
    return elapsed, len(done)


def _delivery_side(uri: str, db_name: str, n: int, start: Any) -> tuple[float, int]:
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(uri)
    coll = raw.comm_rows_table(client, db_name)
    now = datetime.now(UTC)
    rows = [raw.comm_row("floor", i, now) for i in range(n)]
    start.wait()
    started = time.perf_counter()
    raw.write_comm_rows(coll, rows, BATCH, now)
    elapsed = time.perf_counter() - started
    delivered = count_matching(coll, {"status": "delivered"})
    client.drop_database(db_name)
    return elapsed, delivered


def _side(name: str, uri: str, n: int, start: Any, results: Any) -> None:
    """One side in a process of its own: (name, seconds, messages done, error)."""
    work = _campaign_side if name == "campaign" else _delivery_side
    try:
        seconds, count = work(uri, f"bench_floor_{name}", n, start)
        results.put((name, seconds, count, None))
    except Exception as exc:  # the parent reports it; the barrier must not wait on
        start.abort()
        results.put((name, 0.0, 0, repr(exc)))


def journey_db_floor(
    campaign_uri: str, delivery_uri: str, n: int, servers: dict[str, int]
) -> Figure:
    """``servers``: the two database servers' pids, by the names ``nx-27017-campaign``
    and ``nx-27017-delivery``."""
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(3)
    done = ctx.Queue()
    sides = [
        ctx.Process(target=_side, args=(name, uri, n, start, done))
        for name, uri in (("campaign", campaign_uri), ("delivery", delivery_uri))
    ]
    for side in sides:
        side.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a side failed: reported below
        start.wait(timeout=600)  # both sides loaded; the clock starts for all at once
    phase_cpu = PhaseCpu(servers)
    results = {}
    for _ in sides:
        name, seconds, count, error = done.get(timeout=1800)
        if error is not None:
            raise RuntimeError(f"the {name} side failed: {error}")
        results[name] = (seconds, count)
    wall = time.perf_counter() - phase_cpu.started
    cores = phase_cpu.cores()
    busy = phase_cpu.machine_busy_cores()
    for side in sides:
        side.join(timeout=60)
    for name, (_, count) in results.items():
        assert count == n, f"{name} side: {count} messages of {n}"
    slowest = max(seconds for seconds, _ in results.values())
    rates = "; ".join(
        f"{name} {n / seconds:,.0f}/s" for name, (seconds, _) in sorted(results.items())
    )
    servers_ms = ", ".join(
        f"{name} {cores.get(name, 0.0) * wall / n * 1000:.3f}" for name in sorted(servers)
    )
    return Figure(
        "journey_db_floor_per_s",
        n / slowest,
        "messages/s",
        f"{n:,} timer messages' database work alone, the campaign's and delivery's sides in "
        f"parallel (the product's store calls, batches of {BATCH}; bench/floor.py): {rates}. "
        f"Servers' CPU per message, ms: {servers_ms}; the machine busy {busy:.2f} of "
        f"{os.cpu_count()} cores (the servers and the two clients)",
    )
