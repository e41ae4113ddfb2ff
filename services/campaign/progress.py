"""Counters, completion and the scheduler of the campaign worker.

Counters are read from the Redis tally (``tally``: per-message states and their counts,
moved together atomically) and stored on the campaign, at most once per campaign per
``recompute_interval_s`` from receipts (at once when the tally says every message of the
audience is final), and at least every ``refresh_interval_s`` for every active campaign
by the scheduler: whatever the worker stored before a crash, the next recompute makes
the stored figures equal to the tally again.

A launching or running campaign that stops moving while members wait for a final state
is replayed (``services.campaign.stall``): its launch is sent again with ``replay``, the
resolver publishes its stored chunks again, and delivery sends only what it never sent.
Completion is thus checked against the audience that was resolved, not against what the
streams happened to carry.

Announcements (launch, completion) are written as a state change first and confirmed
with a flag after the entry is published; the scheduler publishes again what stayed
unconfirmed, so a crash in between delays an entry but never loses it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from libs.common.background import run_every
from libs.common.logging import get_logger
from libs.common.streams import RECEIPT, SEGMENT, SEND, StreamProducer, entries_in_flight
from services.campaign import announce, stats
from services.campaign.clock import maybe_from_ms, to_ms, utc_now
from services.campaign.lifecycle import ACTIVE
from services.campaign.settings import CampaignSettings
from services.campaign.stall import StallWatch
from services.campaign.store import CampaignStore
from services.campaign.tally import Tally

log = get_logger(__name__)

Clock = Callable[[], datetime]

# The groups a campaign's messages pass through: launch, send, outcome.
PIPELINE = ((SEGMENT, "segment"), (SEND, "send"), (RECEIPT, "campaign"))

# An announcement younger than this is left to the thread that made it.
ANNOUNCE_GRACE_S = 10.0


class Progress:
    def __init__(
        self,
        store: CampaignStore,
        tally: Tally,
        producer: StreamProducer,
        settings: CampaignSettings,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.tally = tally
        self.producer = producer
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._dirty: set[str] = set()
        # Audience sizes of the active campaigns this worker recomputed (from the stored
        # campaign), so a receipt batch can tell when it finished one.
        self._audience: dict[str, int] = {}
        self._stalls = StallWatch(settings.replay_after_s)

    # -- counters ------------------------------------------------------------------
    def touched(self, campaign_ids: Iterable[str]) -> None:
        """Receipts changed these campaigns: recompute now unless done very recently, or
        when every message of the audience is final (no wait for the last figures)."""
        due: list[str] = []
        throttled: list[str] = []
        now = time.monotonic()
        with self._lock:
            for cid in set(campaign_ids):
                if now - self._last.get(cid, 0.0) >= self.settings.recompute_interval_s:
                    self._last[cid] = now
                    self._dirty.discard(cid)
                    due.append(cid)
                else:
                    self._dirty.add(cid)
                    if cid in self._audience:
                        throttled.append(cid)
        for cid in throttled:
            if self._all_final(cid):
                due.append(cid)
        for cid in due:
            self.recompute(cid)

    def _all_final(self, campaign_id: str) -> bool:
        audience = self._audience.get(campaign_id)
        if audience is None:
            return False
        return stats.figures_from_groups(self.tally.groups(campaign_id)).finals >= audience

    def recompute(self, campaign_id: str) -> dict[str, Any] | None:
        """Count the campaign's messages per state, store it, complete when all are final."""
        counted_at = self.clock()
        figures = stats.figures_from_groups(self.tally.groups(campaign_id))
        doc = self.store.save_figures(campaign_id, figures, counted_at)
        with self._lock:
            self._last[campaign_id] = time.monotonic()
            if doc is not None and doc.get("audience_size") is not None and doc["status"] in ACTIVE:
                self._audience[campaign_id] = int(doc["audience_size"])
            else:
                self._audience.pop(campaign_id, None)
        if doc is not None:
            self.complete_if_finished(doc)
        return doc

    # -- completion ----------------------------------------------------------------
    def complete_if_finished(self, doc: dict[str, Any]) -> bool:
        if doc.get("status") not in ("running", "paused") or not stats.is_finished(doc):
            return False
        return self._complete(doc["_id"], {})

    def expire(self, doc: dict[str, Any]) -> bool:
        """Past the completion timeout: what is still pending becomes ``unknown``."""
        now = self.clock()
        self.tally.mark_unknown(doc["_id"], now)
        fresh = self.recompute(doc["_id"])
        if fresh is None or fresh.get("status") not in ("running", "paused"):
            return False
        counts = stats.summary(fresh)
        unseen = counts["pending"]
        log.warning("campaign.completion_timeout", campaign_id=doc["_id"], unknown=unseen)
        return self._complete(doc["_id"], {"unseen": unseen} if unseen else {})

    def _complete(self, campaign_id: str, extra: dict[str, Any]) -> bool:
        done = self.store.transition(
            campaign_id,
            ("running", "paused"),
            {"status": "completed", "completed_ms": to_ms(self.clock()), **extra},
            unset=("status_reason",),
        )
        with self._lock:
            self._audience.pop(campaign_id, None)
        if done is None:
            return False
        self.producer.publish([announce.completed(done)])
        self.store.mark(campaign_id, "completion_published")
        self.tally.forget(campaign_id)
        log.info("campaign.completed", campaign_id=campaign_id, **stats.summary(done))
        return True

    # -- launching -----------------------------------------------------------------
    def publish_launch(self, doc: dict[str, Any]) -> None:
        self.producer.publish([announce.launched(doc)])
        self.store.mark(doc["_id"], "launch_published")
        log.info("campaign.launched", campaign_id=doc["_id"])

    # -- the scheduler -------------------------------------------------------------
    def tick(self) -> None:
        """One pass: launch due campaigns, repair unconfirmed announcements, refresh
        active campaigns' counters, complete finished or expired ones."""
        now = self.clock()
        retry_before = now - timedelta(seconds=self.settings.launch_retry_after_s)
        for doc in self.store.unannounced(retry_before):
            log.warning("campaign.created_republished", campaign_id=doc["_id"])
            self.producer.publish([announce.created(doc)])
            self.store.mark(doc["_id"], "created_published")
        while (due := self.store.claim_due(now)) is not None:
            self.publish_launch(due)
        for doc in self.store.unconfirmed_launches(retry_before):
            log.warning("campaign.launch_republished", campaign_id=doc["_id"])
            self.publish_launch(doc)
        grace = now - timedelta(seconds=ANNOUNCE_GRACE_S)
        for doc in self.store.completed_unannounced():
            if doc["completed_ms"] <= to_ms(grace):
                self.producer.publish([announce.completed(doc)])
                self.store.mark(doc["_id"], "completion_published")
        self._refresh_active(now)

    def _refresh_active(self, now: datetime) -> None:
        mono = time.monotonic()
        timeout = timedelta(seconds=self.settings.completion_timeout_s)
        with self._lock:
            wanted = set(self._dirty)
            self._dirty.clear()
        active = self.store.active_campaigns()
        self._stalls.forget_except({doc["_id"] for doc in active})
        for doc in active:
            cid = doc["_id"]
            started = maybe_from_ms(doc.get("timeout_from_ms"))
            deferred = maybe_from_ms(doc.get("deferred_until_ms"))
            if started is not None and deferred is not None:
                started = max(started, deferred)  # messages wait in delivery until then
            if _awaiting_winner(doc):
                started = None  # its clock starts at the decision (services.campaign.winner)
            if doc["status"] == "running" and started is not None and started + timeout <= now:
                wanted.discard(cid)
                self.expire(doc)
                continue
            waits_by_design = _awaiting_winner(doc) or (deferred is not None and deferred > now)
            if self._stalls.stalled(doc, mono) and not waits_by_design:
                self.replay(doc, now)
            with self._lock:
                if mono - self._last.get(cid, 0.0) >= self.settings.refresh_interval_s:
                    wanted.add(cid)
        # Dirty campaigns may be inactive too: a cancelled one still counts its
        # cancelled messages.
        for cid in sorted(wanted):
            self.recompute(cid)

    def replay(self, doc: dict[str, Any], now: datetime) -> None:
        """Members wait and nothing moves: send the launch again, as a replay. Not while
        the pipeline still holds work (a slow vendor or database is not a loss: a replay
        would only add to its load)."""
        busy = self._work_in_flight()
        if busy:
            log.info("campaign.stalled_pipeline_busy", campaign_id=doc["_id"], entries=busy)
            return
        if not self.store.claim_replay(doc["_id"], now, self.settings.replay_after_s):
            return
        self.producer.publish([announce.launched(doc, replay=True)])
        log.warning(
            "campaign.replayed",
            campaign_id=doc["_id"],
            status=doc["status"],
            audience=doc.get("audience_size"),
            pending=stats.summary(doc)["pending"],
        )

    def _work_in_flight(self) -> int:
        """Entries read and not acknowledged, or not read yet, by the groups a
        campaign's messages pass through."""
        layout = self.settings.stream_layout()
        client = self.tally.client
        return sum(
            entries_in_flight(client, stream, group, layout=layout) for stream, group in PIPELINE
        )

    def run_scheduler(self, stop: threading.Event) -> None:
        log.info("scheduler.started", interval_s=self.settings.scheduler_interval_s)
        run_every(
            self.tick,
            stop,
            self.settings.scheduler_interval_s,
            failure_event="scheduler.tick_failed",
        )
        log.info("scheduler.stopped")


def _awaiting_winner(doc: dict[str, Any]) -> bool:
    setup = doc.get("experiment") or {}
    return "winner" in setup and "decision" not in setup
