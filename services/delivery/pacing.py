"""When a message may leave, for campaigns and journeys alike: quiet hours in the
recipient's zone and a frequency cap per customer and channel (libs.common.sendwindow).

Delivery sees every message, so it enforces both, before a chunk is rendered
(``admit``, one call from services.delivery.sender):
- a recipient whose local time is inside the quiet hours is *deferred*: the recipient
  and the message are kept in ``deferred_messages`` with the end of the window (and
  announced ``MessagesDeferred``, so the campaign waits for them), and
  ``run_releases`` (a thread of the send worker) puts them back on the ``send`` stream
  then, under the same message id (nothing is sent twice, nothing dropped);
- a campaign sent at a local time of day (``SendRequested.local_send``) defers each
  recipient the same way to the first instant after the launch when their clock reads
  it; a released entry carries no ``local_send`` (and keeps the campaign's variants);
- a recipient over the cap gets a row with the final status ``capped`` and is announced
  as failed with the reason ``capped``. The cap counts what was admitted, in a Redis
  sorted set per customer and channel (``delivery:freq:{cid}:{channel}``, member =
  message id, score = time) changed by one script: the same message admitted again
  (a redelivered chunk) is not counted twice.

The policy (``GET/PUT /api/settings/delivery``) is one document in
``delivery_settings``; workers read it at most every ``POLICY_TTL_S``.
"""

from __future__ import annotations

import json
import threading
import time as clock
import zlib
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import redis
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pymongo import ASCENDING, ReplaceOne
from pymongo.database import Database

from libs.common.background import run_every
from libs.common.clock import epoch_ms, from_ms, now_utc
from libs.common.events import (
    Experiment,
    FailedMessage,
    MessagesDeferred,
    Recipient,
    SendRequested,
    message_id,
)
from libs.common.logging import get_logger
from libs.common.mongo import IndexSpec, ensure_indexes, insert_new
from libs.common.redis_client import is_cluster
from libs.common.sendwindow import FrequencyCap, QuietHours, next_local_time, zone
from services.delivery.compose import pick_channel
from services.delivery.context import Deps
from services.delivery.models import CAPPED
from services.delivery.pacing_news import caps_reached
from services.delivery.rows import communication

log = get_logger(__name__)
Doc = dict[str, Any]
POLICY_TTL_S = 2.0
SETTINGS = "delivery_settings"
DEFERRED = "deferred_messages"
INDEXES = (IndexSpec(DEFERRED, [("release_ms", ASCENDING)], name="release"),)


class _Api(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class QuietHoursIn(_Api):
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class FrequencyCapIn(_Api):
    messages: int = Field(ge=1, le=1000)
    per_days: int = Field(alias="perDays", ge=1, le=365)


class DeliveryPolicy(_Api):
    quiet_hours: QuietHoursIn | None = Field(None, alias="quietHours")
    frequency_cap: FrequencyCapIn | None = Field(None, alias="frequencyCap")
    timezone: str | None = None  # the workspace zone; WORKSPACE_TIMEZONE when absent

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _not_empty(cls, value: QuietHoursIn | None) -> QuietHoursIn | None:
        if value is not None and value.start == value.end:
            raise ValueError("quiet hours must not start and end at the same time")
        return value

    def quiet(self) -> QuietHours | None:
        q = self.quiet_hours
        return QuietHours.parse(q.start, q.end) if q else None

    def cap(self) -> FrequencyCap | None:
        c = self.frequency_cap
        return FrequencyCap(c.messages, c.per_days) if c else None

    def out(self, workspace_zone: str) -> Doc:
        body = self.model_dump(mode="json", by_alias=True)
        body["timezone"] = self.timezone or workspace_zone
        return body


class PolicyStore:
    """``delivery_settings`` (one document) and ``deferred_messages``."""

    def __init__(self, db: Database[Doc]) -> None:
        self.db = db
        self._cached: tuple[float, DeliveryPolicy] | None = None
        self._lock = threading.Lock()

    def ensure_indexes(self) -> None:
        ensure_indexes(self.db, INDEXES)

    def load(self) -> DeliveryPolicy:
        saved = self.saved()
        return saved[0] if saved else DeliveryPolicy()

    def saved(self) -> tuple[DeliveryPolicy, datetime] | None:
        """The saved policy and when it was saved (the epoch for one saved before that
        was kept); None when none was ever saved."""
        doc = self.db[SETTINGS].find_one({"_id": "delivery"})
        if doc is None:
            return None
        doc.pop("_id", None)
        saved_ms = int(doc.pop("saved_ms", 0))
        return DeliveryPolicy.model_validate(doc), from_ms(saved_ms)

    def save(self, policy: DeliveryPolicy, at: datetime | None = None) -> None:
        doc = {
            "_id": "delivery",
            **policy.model_dump(mode="json", by_alias=True),
            "saved_ms": epoch_ms(at or now_utc()),
        }
        self.db[SETTINGS].replace_one({"_id": "delivery"}, doc, upsert=True)
        with self._lock:
            self._cached = None

    def current(self) -> DeliveryPolicy:
        with self._lock:
            if self._cached and clock.monotonic() - self._cached[0] < POLICY_TTL_S:
                return self._cached[1]
        policy = self.load()
        with self._lock:
            self._cached = (clock.monotonic(), policy)
        return policy

    def defer(self, docs: list[Doc]) -> None:
        if docs:
            self.db[DEFERRED].bulk_write(
                [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs], ordered=False
            )

    def due(self, now_ms: int, limit: int) -> list[Doc]:
        query = {"release_ms": {"$lte": now_ms}}
        return list(self.db[DEFERRED].find(query).sort([("release_ms", 1)]).limit(limit))

    def forget(self, ids: list[str]) -> None:
        if ids:
            self.db[DEFERRED].delete_many({"_id": {"$in": ids}})


# Atomic per key: drop what left the window; a message already counted stays allowed;
# otherwise count it if there is room. Returns {allowed (1/0), capped until}: when the
# key is at its cap afterwards, the moment enough counted messages have left the window
# for one more (epoch ms), else 0; the audience preview learns it (CapsReached).
_ADMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local cap = tonumber(ARGV[4])
local allowed = 1
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  if redis.call('ZCARD', KEYS[1]) >= cap then
    allowed = 0
  else
    redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
    redis.call('PEXPIRE', KEYS[1], ARGV[5])
  end
end
local count = redis.call('ZCARD', KEYS[1])
if count < cap then return {allowed, 0} end
local freeing = redis.call('ZRANGE', KEYS[1], count - cap, count - cap, 'WITHSCORES')
return {allowed, tonumber(freeing[2]) + tonumber(ARGV[1]) - tonumber(ARGV[2])}
"""


class CapCounter:
    def __init__(self, client: redis.Redis) -> None:
        self._script = client.register_script(_ADMIT)
        self._client = client

    def admit(
        self, cap: FrequencyCap, pairs: list[tuple[str, str, str]], now: datetime
    ) -> list[tuple[bool, int]]:
        """(customer id, channel, message id) -> (allowed?, capped until in epoch ms or
        0: the customer has room for another message on that channel)."""
        now_ms = int(now.timestamp() * 1000)
        window_ms = int(cap.window.total_seconds() * 1000)
        calls: list[tuple[list[str], list[int | str]]] = [
            (
                [f"delivery:freq:{customer_id}:{channel}"],
                [now_ms, now_ms - window_ms, mid, cap.messages, window_ms + 60_000],
            )
            for customer_id, channel, mid in pairs
        ]
        if is_cluster(self._client):  # a cluster pipeline refuses EVALSHA: one call each
            return [_verdict(self._script(keys=k, args=a)) for k, a in calls]
        pipe = self._client.pipeline(transaction=False)
        for keys, args in calls:
            self._script(keys=keys, args=args, client=pipe)
        return [_verdict(v) for v in pipe.execute()]


def _verdict(reply: Any) -> tuple[bool, int]:
    allowed, until_ms = reply
    return bool(allowed), int(until_ms)


@dataclass
class Pacing:
    policies: PolicyStore
    caps: CapCounter
    workspace_zone: str


def admit(
    event: SendRequested,
    recipients: list[Recipient],
    existing: dict[str, Doc],
    deps: Deps,
    now: datetime,
) -> list[Recipient]:
    """The recipients that may be sent to now. Deferred ones are stored for later,
    capped ones recorded final; recipients whose row exists are kept (their chunk's
    batches are formed as on the first run) unless that row is ``capped``."""
    pacing = deps.pacing
    if pacing is None:
        return recipients
    policy = pacing.policies.current()
    quiet, cap = policy.quiet(), policy.cap()
    local = event.local_send
    if quiet is None and cap is None and local is None:
        return recipients
    local_at = time.fromisoformat(local.at) if local is not None else None
    workspace = policy.timezone or pacing.workspace_zone
    cid = event.campaign_id
    kept: list[Recipient] = []
    deferred: list[Doc] = []
    to_cap: list[tuple[Recipient, str]] = []
    for r in recipients:
        mid = message_id(cid, r.customer_id)
        row = existing.get(mid)
        if row is not None:
            if row.get("status") != CAPPED:
                kept.append(r)
            continue
        tz = zone(r.timezone, workspace)
        if local is not None and local_at is not None:
            due = next_local_time(local.after, local_at, tz)
            if due > now:  # released without ``local_send``: it leaves then
                deferred.append(_deferred(event, r, mid, due))
                continue
        if quiet is not None and quiet.contains(now, tz):
            release = quiet.release(now, tz)
            deferred.append(_deferred(event, r, mid, release))
            continue
        route = pick_channel(event.channel, r)
        if cap is not None and not isinstance(route, str):
            to_cap.append((r, route[0]))
        else:
            kept.append(r)
    capped: list[Recipient] = []
    if to_cap:
        assert cap is not None
        allowed = pacing.caps.admit(
            cap, [(r.customer_id, ch, message_id(cid, r.customer_id)) for r, ch in to_cap], now
        )
        reached: dict[str, list[tuple[str, int]]] = {}
        for (r, channel), (ok, until_ms) in zip(to_cap, allowed, strict=True):
            (kept if ok else capped).append(r)
            if until_ms:
                reached.setdefault(channel, []).append((r.customer_id, until_ms))
        deps.publish(caps_reached(reached))
    pacing.policies.defer(deferred)
    if deferred:
        until = max(d["release_ms"] for d in deferred)
        deps.publish(
            [
                MessagesDeferred(
                    campaign_id=cid,
                    customer_ids=[d["recipient"]["customer_id"] for d in deferred],
                    until=from_ms(until),
                )
            ]
        )
    if capped:
        _record_capped(cid, capped, deps, now)
    if deferred or capped:
        log.info("delivery.paced", campaign_id=cid, deferred=len(deferred), capped=len(capped))
    order = {r.customer_id: i for i, r in enumerate(recipients)}
    return sorted(kept, key=lambda r: order[r.customer_id])


def _deferred(event: SendRequested, r: Recipient, mid: str, release: datetime) -> Doc:
    doc: Doc = {
        "_id": mid,
        "campaign_id": event.campaign_id,
        "message": event.message,
        "channel": event.channel,
        "recipient": r.model_dump(mode="json"),
        "release_ms": int(release.timestamp() * 1000),
    }
    if event.experiment is not None:  # the recipient's variant is chosen at sending
        doc["experiment"] = event.experiment.model_dump(mode="json")
    return doc


def _record_capped(cid: str, capped: list[Recipient], deps: Deps, now: datetime) -> None:
    rows = [
        communication(
            message_id(cid, r.customer_id),
            cid,
            r.customer_id,
            status=CAPPED,
            reason="frequency cap",
            created_at=now,
        )
        for r in capped
    ]
    insert_new(deps.store.comms, rows)
    failed = [
        FailedMessage(
            message_id=message_id(cid, r.customer_id),
            campaign_id=cid,
            customer_id=r.customer_id,
            reason=CAPPED,
            at=now,
        )
        for r in capped
    ]
    deps.publish_outcomes([], failed)


def release_due(deps: Deps, limit: int = 500) -> int:
    """Put deferred messages whose quiet hours ended back on the ``send`` stream."""
    pacing = deps.pacing
    if pacing is None:
        return 0
    docs = pacing.policies.due(int(now_utc().timestamp() * 1000), limit)
    if not docs:
        return 0
    grouped: dict[tuple[str, str, str | None, str], list[Recipient]] = {}
    experiments: dict[str, Experiment | None] = {}
    for d in docs:
        setup = json.dumps(d.get("experiment"), sort_keys=True)
        if setup not in experiments:
            raw = d.get("experiment")
            experiments[setup] = Experiment.model_validate(raw) if raw else None
        key = (d["campaign_id"], d["message"], d.get("channel"), setup)
        grouped.setdefault(key, []).append(Recipient.model_validate(d["recipient"]))
    entries = [
        SendRequested(
            campaign_id=campaign_id,
            message=message,
            channel=channel,
            chunk=zlib.crc32("\n".join(r.customer_id for r in rs).encode()) & 0x7FFFFFFF,
            recipients=rs,
            experiment=experiments[setup],
        )
        for (campaign_id, message, channel, setup), rs in grouped.items()
    ]
    deps.publish(entries)
    pacing.policies.forget([d["_id"] for d in docs])
    log.info("delivery.deferred_released", messages=len(docs))
    return len(docs)


def run_releases(deps: Deps, stop: threading.Event, poll_s: float = 1.0) -> None:
    run_every(
        lambda: release_due(deps),
        stop,
        poll_s,
        failure_event="delivery.release_failed",
        again_while_busy=True,
    )
