"""Journey figures (issue #24).

- ``journey_trigger_to_send_p99_ms``: a journey with no wait (order placed -> send);
  orders posted open-loop at ``rate`` per second for ``seconds`` (batches of 10, paced,
  to the ingest API, after their customers were loaded); per order, from its
  POST to its message's ``sent_at`` in delivery's rows (the send worker's clock as it
  handed the batch to the vendor).
- ``journey_timers_due_per_s``: ``n`` customers waiting in one journey, all due at
  once (their states and projected customers inserted directly into the campaign
  database, as bench/preview.py loads customers); messages handed to the vendor per
  second from the due instant to the last ``sent_at``. Reported beside
  ``db_raw_comm_rows_per_s`` as a ratio.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pymongo

from bench.cpu import PhaseCpu
from bench.ingestion import internal_headers, signed_in, wait_api_idle, wait_drained
from bench.report import Figure, percentile
from libs.common.logging import get_logger
from libs.common.mongo import count_matching
from libs.common.redis_client import make_redis
from tests.support.stack import RunningStack

log = get_logger("bench")
MESSAGE = "Thanks for your order, {firstName}!"
BATCH = 10
STALL_S = 10
INSERT_BATCH = 2000


def _journey(client: httpx.Client, name: str, steps: list[dict[str, Any]]) -> str:
    body = {"name": name, "trigger": {"type": "order_placed"}, "steps": steps}
    created = client.post("/api/journeys", json=body)
    created.raise_for_status()
    jid = str(created.json()["id"])
    client.post(f"/api/journeys/{jid}/activate").raise_for_status()
    time.sleep(1.5)  # the journey worker reads the active journeys every second
    return jid


def _customer(i: int, prefix: str) -> dict[str, Any]:
    return {
        "id": f"{prefix}{i:07d}",
        "name": f"Bench {i}",
        "email": f"{prefix}{i}@example.com",
        "phone": f"+1555{i:07d}",
        "totalSpends": 0,
        "visits": 0,
    }


def _sent_times(delivery_uri: str, db_name: str, campaign_id: str) -> dict[str, float]:
    """customer id -> when its message was handed to the vendor (the row's ``sent_at``,
    the send worker's clock before the call; the ``receipt`` stream cannot be read
    afterwards: entries every group acknowledged are deleted)."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(delivery_uri)
    rows = client[db_name]["communications"].find(
        {"campaign_id": campaign_id}, {"customer_id": 1, "sent_at": 1}
    )
    out = {r["customer_id"]: at for r in rows if (at := _epoch(r.get("sent_at"))) is not None}
    client.close()
    return out


def _epoch(value: Any) -> float | None:
    """A stored time as epoch seconds. nx-27017 keeps a date given to ``$set`` as its
    text ("2026-12-04 17:19:35.545000"): a row written from its receipt first and
    completed by its announcement has its ``sent_at`` so."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC).timestamp()


def trigger_to_send(
    stack: RunningStack,
    delivery_uri: str,
    rate: float,
    seconds: float,
    deadline_s: float,
    servers: dict[str, int] | None = None,
) -> Figure:
    """``servers``: the redis and database servers' pids, accounted for beside the stack's."""
    total = int(rate * seconds)
    prefix = "jt"
    ingest = httpx.Client(
        base_url=stack.layout.url("ingest"), timeout=30, headers=internal_headers(stack)
    )
    with signed_in(stack) as client:
        jid = _journey(
            client, "bench trigger", [{"id": "send", "type": "send", "message": MESSAGE}]
        )
        for s in range(0, total, 2000):
            part = [_customer(i, prefix) for i in range(s, min(s + 2000, total))]
            client.post("/api/customers/batch", json={"customers": part}).raise_for_status()
        # Orders start once every group has consumed the customers (the journey
        # worker's projection holds them) and the ingest API's read model applied them:
        # the figure is the trigger path's at 500 orders/s, not behind the setup's import.
        settled_s = wait_drained(stack.env["REDIS_URL"], group=None) + wait_api_idle(stack)
        posted: dict[str, float] = {}
        lock = threading.Lock()
        phase_cpu = PhaseCpu({**{k: p.pid for k, p in stack.procs.items()}, **(servers or {})})
        started = time.perf_counter()
        wall0 = time.time() - started
        for tick, s in enumerate(range(0, total, BATCH)):
            pause = started + tick * BATCH / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            orders = [
                {"id": f"{prefix}o{i}", "customerId": f"{prefix}{i:07d}", "amount": 10}
                for i in range(s, min(s + BATCH, total))
            ]
            at = wall0 + time.perf_counter()
            ingest.post("/api/orders/batch", json={"orders": orders}).raise_for_status()
            with lock:
                posted.update({o["customerId"]: at for o in orders})
        cpu = phase_cpu.describe(top=9)  # while the orders were posted
        sent: dict[str, float] = {}
        while time.perf_counter() - started < deadline_s:
            sent = _sent_times(delivery_uri, _delivery_db(stack), f"{jid}.send.1")
            if len(sent) >= total:
                break
            time.sleep(1)
    ingest.close()
    latencies = [(sent[c] - posted[c]) * 1000 for c in posted if c in sent]
    p99 = percentile(latencies, 99) if latencies else None
    return Figure(
        "journey_trigger_to_send_p99_ms",
        p99,
        "ms",
        f"journey order_placed -> send, no wait; {total:,} orders at {rate:g}/s for "
        f"{seconds:g} s (batches of {BATCH} to the ingest API); POST -> the message's "
        f"sent_at (handed to the vendor); {len(latencies):,}/{total:,} messages seen; p50 "
        f"{percentile(latencies, 50) if latencies else 0:.0f} ms; the orders began "
        f"{settled_s:.1f} s after the {total:,} customers were posted, once every group "
        f"had consumed them. " + cpu,
        "<= 1000",
    )


def _delivery_db(stack: RunningStack) -> str:
    return stack.env["DB_PREFIX"] + "delivery"


def timers_due(
    stack: RunningStack,
    mongo_uri: str,
    delivery_uri: str,
    n: int,
    deadline_s: float,
    servers: dict[str, int] | None = None,
) -> Figure:
    """``servers``: the redis and database servers' pids, accounted for beside the stack's."""
    with signed_in(stack) as client:
        jid = _journey(
            client,
            "bench timers",
            [
                {"id": "wait", "type": "wait", "seconds": 3600},
                {"id": "send", "type": "send", "message": MESSAGE},
            ],
        )
    db = pymongo.MongoClient(mongo_uri)[stack.env["DB_PREFIX"] + "campaign"]
    # All due at one instant after they are all in: the insertion's length is estimated
    # from a first slice (twice that, as the tables grow), and the clock starts at the
    # due instant or at the end of the insertion, whichever is later.
    now_ms = int(time.time() * 1000)
    first = min(INSERT_BATCH * 5, n)
    started_insert = time.perf_counter()
    insert_waiting(db, jid, 0, first, now_ms, due_ms=now_ms + 3_600_000)
    per_state_s = (time.perf_counter() - started_insert) / first
    due_ms = int(time.time() * 1000 + (2 * per_state_s * (n - first) + 15) * 1000)
    db["journey_states"].update_many({"journey_id": jid}, {"$set": {"due_ms": due_ms}})
    insert_waiting(db, jid, first, n, now_ms, due_ms)
    inserted_ms = int(time.time() * 1000)
    pause = due_ms / 1000 - time.time()
    if pause > 0:
        time.sleep(pause)
    clock_ms = max(due_ms, inserted_ms)
    phase_cpu = PhaseCpu({**{k: p.pid for k, p in stack.procs.items()}, **(servers or {})})
    started = time.perf_counter()
    campaign_id = f"{jid}.send.1"
    # Progress from delivery's sent ledger in Redis: counting a million rows every few
    # seconds would load the very database whose writes this figure measures. A message
    # skipped (suppressed, capped) is never handed, so the wait ends when every message
    # was handed or none was for STALL_S; the rows, counted after, must all be there.
    redis = make_redis(stack.env["REDIS_URL"])
    handed, moved = 0, time.perf_counter()
    while time.perf_counter() - started < deadline_s:
        now_handed = int(redis.hlen(f"delivery:sent:{campaign_id}"))
        if now_handed != handed:
            handed, moved = now_handed, time.perf_counter()
        if handed >= n or (handed and time.perf_counter() - moved > STALL_S):
            break
        time.sleep(0.5)
    redis.close()
    # while the messages were handed, not the rows after
    cpu = phase_cpu.describe(top=9) + "; " + phase_cpu.per_item_ms(handed, "message")
    log.info("bench.journey_timers_handed", handed=handed, seconds=time.perf_counter() - started)
    rows = 0
    delivery: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(delivery_uri)
    comms = delivery[_delivery_db(stack)]["communications"]
    while time.perf_counter() - started < deadline_s + 120:  # the rows follow the receipts
        rows = count_matching(comms, {"campaign_id": campaign_id})
        if rows >= n:
            break
        time.sleep(5)
    # A row written from its receipt first gets its sent_at when its announcement is
    # read: wait for them (until every handed message has one, or none came for 10 s).
    with_sent_at, last_count = 0, -1
    while time.perf_counter() - started < deadline_s + 120 and with_sent_at < handed:
        with_sent_at = count_matching(
            comms, {"campaign_id": campaign_id, "sent_at": {"$exists": True}}
        )
        if with_sent_at == last_count:
            break
        last_count = with_sent_at
        time.sleep(5)
    delivery.close()
    log.info(
        "bench.journey_timers_rows",
        rows=rows,
        with_sent_at=with_sent_at,
        seconds=time.perf_counter() - started,
    )
    sent = _sent_times(delivery_uri, _delivery_db(stack), campaign_id)
    last = max(sent.values()) if sent else None
    elapsed = (last - clock_ms / 1000) if last else None
    rate = len(sent) / elapsed if elapsed else None
    return Figure(
        "journey_timers_due_per_s",
        rate,
        "msg/s",
        f"{n:,} customers waiting in one journey, all due at one instant; messages "
        f"handed to the vendor ({len(sent):,} of {rows:,} rows; the others were skipped, "
        f"as suppressed or capped) per second from the due instant to the last sent_at "
        f"({elapsed or 0:.1f} s; the insertion ended {(inserted_ms - due_ms) / 1000:+.1f} s "
        f"from the due instant, the clock starts at the later). " + cpu,
    )


def insert_waiting(db: Any, jid: str, start: int, stop: int, now_ms: int, due_ms: int) -> None:
    for s in range(start, stop, INSERT_BATCH):
        ids = [f"jw{i:07d}" for i in range(s, min(s + INSERT_BATCH, stop))]
        db["journey_customers"].insert_many(
            [_projected(cid, i) for i, cid in enumerate(ids, start=s)], ordered=False
        )
        db["journey_states"].insert_many(
            [_waiting(jid, cid, now_ms, due_ms) for cid in ids], ordered=False
        )


def _projected(cid: str, i: int) -> dict[str, Any]:
    # numbers of their own: the trigger phase's customers have +1555..., and the STOP
    # receipts among their messages suppress those numbers
    return {"_id": cid, "name": f"Bench {i}", "phone": f"+1556{i:07d}", "known": True}


def _waiting(jid: str, cid: str, now_ms: int, due_ms: int) -> dict[str, Any]:
    return {
        "_id": f"{jid}:{cid}",
        "journey_id": jid,
        "customer_id": cid,
        "entry": 1,
        "entered_ms": now_ms,
        "trigger_ref": f"bench:{cid}",
        "ordered": False,
        "path": ["wait"],
        "sent": [],
        "failed": [],
        "history": [],
        "status": "waiting",
        "position": "wait",
        "due_ms": due_ms,
        "lease_ms": 0,
        "updated_ms": now_ms,
    }
