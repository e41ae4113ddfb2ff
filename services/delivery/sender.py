"""Group ``send``: a chunk of one campaign's recipients becomes vendor batches.

Database writes per sent message here: none. The vendor's answer is announced at once
in ``MessagesSent``, with what was sent (channel, address, body), and the receipt
worker writes the message's row from it (services.delivery.receipts): one write per
message when its receipt is in the same read, two when it is not. There is no
``queued`` write before the vendor call: the crash window between the vendor's answer
and the announcement is covered by the vendor idempotency key, derived from the batch's
content (campaign, chunk, batch number, message ids). A redelivered chunk finds no rows
for that batch, rebuilds the same batch, sends the same key and gets the same vendor
ids back; the vendor sends nothing twice, and the second announcement writes nothing
new. Rows that already exist (any status) are never sent again: one query per read
finds them first. A redelivered entry re-announces their outcomes (consumers dedupe by
message id), in case the crash came between a write here and its announcement.

The vendor out of reach for a whole retry budget leaves the entry pending: the stream
runtime delivers it again after the visibility timeout; only its last allowed delivery
(``STREAM_MAX_DELIVERIES``) records the messages ``failed`` with the reason.

A paused campaign's messages are stored ``held`` (rendered, ready to send on resume),
except in a redelivered chunk (see ``send_chunk``); a cancelled campaign's are stored
``cancelled`` and announced as such. The state is read again before every vendor batch,
once the rate limiter let it go (``CampaignStates.gate``, from the live controls in
services.delivery.flags): after a pause or cancel, at most the batch each send thread
has inside a vendor call still leaves.
"""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from libs.common.clock import now_utc
from libs.common.errors import TransientError
from libs.common.events import (
    FailedMessage,
    MessagesCancelled,
    SendRequested,
    SentMessage,
)
from libs.common.events import message_id as make_message_id
from libs.common.logging import get_logger
from services.delivery import experiment, pacing
from services.delivery.backlog import wait_for_receipts
from services.delivery.compose import Outgoing, Undeliverable, batch_key
from services.delivery.consent import suppressed_messages
from services.delivery.context import Deps
from services.delivery.dispatch import PAUSED, BatchResult, record_finished, send_batch
from services.delivery.flags import LiveControls
from services.delivery.models import CANCELLED, FAILED, HELD, SENT, SUPPRESSED
from services.delivery.rows import communication

log = get_logger(__name__)


class CampaignStates:
    """Each campaign's state while a batch of chunks is sent, shared by the threads
    sending them. Read from the live controls (services.delivery.flags) before every
    vendor batch, so a pause or cancel takes effect at the next batch, not the next read
    of the stream; ``initial`` is the database's read model at the start of the read."""

    def __init__(self, initial: dict[str, str], live: LiveControls | None = None) -> None:
        self._states = dict(initial)
        self._live = live
        self._lock = threading.Lock()

    def get(self, campaign_id: str) -> str:
        current = self._live.state(campaign_id) if self._live is not None else ""
        with self._lock:
            if current:
                self._states[campaign_id] = current
            return self._states.get(campaign_id, "")

    def pause(self, campaign_id: str) -> None:
        with self._lock:
            self._states[campaign_id] = PAUSED

    def gate(self, campaign_id: str, size: int, *, hold: bool) -> str:
        """Count ``size`` messages in flight, then read the state: "" to send them, else
        the state that stops them (the count is taken back). ``hold`` False: a paused
        campaign's batch goes anyway (a redelivered chunk, see ``send_chunk``)."""
        if self._live is not None:
            self._live.begin(campaign_id, size)
        state = self.get(campaign_id)
        if state == CANCELLED or (state == PAUSED and hold):
            self.done(campaign_id, size)
            return state
        return ""

    def done(self, campaign_id: str, size: int) -> None:
        if self._live is not None and size:
            self._live.end(campaign_id, size)


def handle_send_requested(events: list[SendRequested], deps: Deps) -> None:
    """Send the chunks, ``send_concurrency`` at a time: a chunk spends most of its time
    waiting on the vendor or the database, so overlapping them keeps both busy. First,
    wait while the receipt worker is far behind (services.delivery.backlog)."""
    settings = deps.settings
    wait_for_receipts(
        deps.redis,
        settings.receipt_entries(settings.receipt_backlog_max),
        settings.receipt_backlog_wait_s,
        settings.stream_layout(),
    )
    controls = deps.store.get_controls(e.campaign_id for e in events)
    initial = {cid: doc.get("state", "") for cid, doc in controls.items()}
    states = CampaignStates(initial, deps.live)
    existing = _existing_rows(events, deps)
    workers = min(deps.settings.send_concurrency, len(events))
    if workers <= 1:
        for event in events:
            send_chunk(event, states, existing, deps)
        return
    # one copy of the caller's context (trace id) per chunk: a context runs in one thread
    contexts = [contextvars.copy_context() for _ in events]
    with ThreadPoolExecutor(workers, thread_name_prefix="send") as pool:
        runs = pool.map(lambda c, e: c.run(send_chunk, e, states, existing, deps), contexts, events)
        list(runs)  # re-raises the first failure, once every chunk has finished


def _existing_rows(events: list[SendRequested], deps: Deps) -> dict[str, dict[str, Any]]:
    """The rows already written for any recipient of these chunks: one query for the
    batch, not one per chunk (each waited its turn behind the inserts and receipt
    updates on a database that runs its commands one at a time)."""
    ids = [make_message_id(e.campaign_id, r.customer_id) for e in events for r in e.recipients]
    return deps.store.find_existing(ids)


def send_chunk(
    event: SendRequested,
    states: CampaignStates,
    existing_rows: dict[str, dict[str, Any]],
    deps: Deps,
) -> None:
    """Handle one chunk (an auto-pause it trips is recorded in ``states``);
    ``existing_rows`` holds at least the rows already written for its recipients."""
    now = now_utc()
    cid = event.campaign_id
    state = states.get(cid)
    recipients = list({r.customer_id: r for r in event.recipients}.values())
    if event.deliveries == 1 and not event.replay:
        # A message another entry handed to the vendor is not sent again, even before
        # its row is written (a journey step run again after a crash publishes its
        # messages anew, in other chunks); a redelivered or replayed entry keeps its own
        # batches (and vendor keys: the vendor answers what it was sent).
        handed = deps.ledger.handed(cid, [r.customer_id for r in recipients])
        recipients = [r for r in recipients if r.customer_id not in handed]
    recipients = pacing.admit(event, recipients, existing_rows, deps, now)
    message_ids = [make_message_id(cid, r.customer_id) for r in recipients]
    existing = {mid: existing_rows[mid] for mid in message_ids if mid in existing_rows}
    # A replayed chunk (services.ingest.audience.launches) is a redelivery of its first entry.
    redelivered = event.deliveries > 1 or event.replay
    if existing and redelivered:
        _announce_existing(cid, list(existing.values()), deps)
    fresh = [r for r in recipients if make_message_id(cid, r.customer_id) not in existing]
    if not fresh:
        return
    if state == CANCELLED:
        _cancel_fresh(cid, [r.customer_id for r in fresh], now, deps)
        return
    # An earlier run of a redelivered chunk may have reached the vendor before it
    # crashed. Holding now would re-send those messages on resume under another key;
    # sending with the same keys gets the vendor's earlier answer instead (or sends
    # late, once).
    hold = not redelivered
    # A redelivered chunk forms its batches from every recipient, as its first run did
    # (its recipients are the same entry's): receipts may have written some rows since
    # that run reached the vendor, and batches re-formed from the rest would carry other
    # ids under other keys and be sent again. A batch whose rows all exist is skipped;
    # the others keep their keys, so the vendor answers from its record of the first
    # call. A first run leaves out recipients whose rows another chunk wrote.
    plan = experiment.plan_chunk(
        event,
        fresh if hold else recipients,
        deps.settings.workspace_format(),
        now,
        deps.unsubscribe_links(cid) if deps.unsubscribe_links else None,
    )
    outgoing = plan.outgoing
    outcome = ChunkOutcome(now)
    outcome.undeliverable([u for u in plan.undeliverable if u.message_id not in existing])
    outcome.rows += [r for r in plan.rows if r["_id"] not in existing]  # holdout and waiting
    held_out = [c for c in plan.held_out if make_message_id(cid, c) not in existing]
    try:
        _send_batches(event, outgoing, existing, state, hold, states, outcome, deps)
        deps.store.insert_new(outcome.rows)
        deps.publish_outcomes(outcome.sent, outcome.failed)
        experiment.announce_held_out(cid, held_out, deps)
    finally:
        states.done(cid, outcome.in_flight)
    if outcome.suppressed:
        ids = [m.customer_id for m in outcome.suppressed]
        deps.publish(
            [MessagesCancelled(campaign_id=cid, customer_ids=ids, at=now, reason=SUPPRESSED)]
        )
    if outcome.cancelled:
        _cancel_fresh(cid, [m.customer_id for m in outcome.cancelled], now, deps)
    unsent = outcome.undeliverable_count
    if unsent and record_finished(deps, cid, [True] * unsent, now):
        states.pause(cid)
    log.info(
        "delivery.chunk_done",
        campaign_id=cid,
        chunk=event.chunk,
        sent=len(outcome.sent),
        failed=len(outcome.failed),
        held=sum(r["status"] == HELD for r in outcome.rows),
        cancelled=len(outcome.cancelled),
        suppressed=len(outcome.suppressed),
        skipped=len(existing),
    )


@dataclass
class ChunkOutcome:
    """What one chunk's run produced: the rows it writes (held, failed and suppressed
    messages; a sent message's row is the receipt worker's, from MessagesSent), the
    announcements, the messages a cancel or a suppression stopped, and how many went to
    the vendor (in flight)."""

    now: datetime
    rows: list[dict[str, Any]] = field(default_factory=list)
    sent: list[SentMessage] = field(default_factory=list)
    failed: list[FailedMessage] = field(default_factory=list)
    cancelled: list[Outgoing] = field(default_factory=list)
    suppressed: list[Outgoing] = field(default_factory=list)
    in_flight: int = 0
    undeliverable_count: int = 0

    def undeliverable(self, messages: list[Undeliverable]) -> None:
        """Messages that cannot be sent at all (no address, a template error)."""
        self.undeliverable_count += len(messages)
        self.failed += [_failure(u, self.now) for u in messages]
        self.rows += [_row(u, self.now, status=FAILED, reason=u.reason) for u in messages]

    def stopped(self, messages: list[Outgoing], state: str) -> None:
        """Messages a cancel (cancelled later) or a pause (stored held) kept here."""
        if state == CANCELLED:
            self.cancelled += messages
        else:
            self.rows += [_row(m, self.now, status=HELD) for m in messages]

    def suppress(self, messages: list[Outgoing]) -> None:
        """Messages whose address was suppressed before they left: final, no failure."""
        self.suppressed += messages
        self.rows += [_row(m, self.now, status=SUPPRESSED, reason=SUPPRESSED) for m in messages]

    def answered(self, batch: list[Outgoing], result: BatchResult) -> None:
        """The vendor's answer for a batch."""
        for m in batch:
            fields = result.rows[m.message_id]
            if fields["status"] != SENT:
                self.rows.append(_row(m, self.now, **fields))
        self.sent += result.sent
        self.failed += result.failed


def _stopping(state: str, hold: bool) -> str:
    """The state that keeps a batch here: cancelled, or paused unless ``hold`` is off."""
    return state if state == CANCELLED or (state == PAUSED and hold) else ""


def _send_batches(
    event: SendRequested,
    outgoing: list[Outgoing],
    existing: dict[str, dict[str, Any]],
    state: str,
    hold: bool,
    states: CampaignStates,
    outcome: ChunkOutcome,
    deps: Deps,
) -> None:
    """Send the chunk's vendor batches in turn; from a pause or cancel on (at the start,
    met at the gate, or an auto-pause this chunk trips), keep the rest here. A first
    run leaves out suppressed addresses; a redelivered chunk keeps its batches (and
    their vendor keys) as they were."""
    cid = event.campaign_id
    size = deps.settings.vendor_batch_size
    last_try = event.deliveries >= deps.settings.stream_max_deliveries
    for index, start in enumerate(range(0, len(outgoing), size)):
        batch = outgoing[start : start + size]
        pending = [m for m in batch if m.message_id not in existing]
        if not pending:
            continue
        if stop := _stopping(state, hold):
            outcome.stopped(pending, stop)
            continue
        if hold and (blocked := suppressed_messages(deps, pending)):
            outcome.suppress([m for m in pending if m.message_id in blocked])
            batch = [m for m in batch if m.message_id not in blocked]
            pending = [m for m in pending if m.message_id not in blocked]
            if not pending:
                continue
        key = batch_key("send", cid, f"{event.chunk}.{index}", [m.message_id for m in batch])

        def proceed(n: int = len(batch)) -> str:
            return states.gate(cid, n, hold=hold)

        result = send_batch(deps, key, batch, outcome.now, last_try=last_try, proceed=proceed)
        if result.stopped:  # paused or cancelled meanwhile: this batch stays here
            state = result.stopped
            outcome.stopped(pending, state)
            continue
        outcome.in_flight += len(batch)
        if result.unavailable and not last_try:
            # Nothing of this chunk is written, so its next delivery rebuilds the
            # same batches and keys; accepted batches come back from the vendor.
            raise TransientError(
                f"chunk {event.chunk} left for a later delivery: {result.unavailable}"
            )
        outcome.answered(batch, result)
        if record_finished(deps, cid, [True] * len(result.failed), outcome.now):
            state = PAUSED
            states.pause(cid)


def _row(m: Outgoing | Undeliverable, now: datetime, **fields: Any) -> dict[str, Any]:
    content: dict[str, Any] = {}
    if isinstance(m, Outgoing):
        content = {"to": m.to, "channel": m.channel, "body": m.body}
        if m.headers:
            content["headers"] = dict(m.headers)
    return communication(
        m.message_id,
        m.campaign_id,
        m.customer_id,
        created_at=now,
        **{"updated_at": now, **content, **fields},
    )


def _failure(u: Undeliverable, now: datetime) -> FailedMessage:
    return FailedMessage(
        message_id=u.message_id,
        campaign_id=u.campaign_id,
        customer_id=u.customer_id,
        reason=u.reason,
        at=now,
    )


def _cancel_fresh(cid: str, customer_ids: list[str], now: datetime, deps: Deps) -> None:
    rows = [
        communication(
            make_message_id(cid, customer_id),
            cid,
            customer_id,
            status=CANCELLED,
            created_at=now,
            reason="campaign cancelled",
        )
        for customer_id in customer_ids
    ]
    deps.store.insert_new(rows)
    deps.publish([MessagesCancelled(campaign_id=cid, customer_ids=customer_ids, at=now)])


def _announce_existing(cid: str, docs: list[dict[str, Any]], deps: Deps) -> None:
    """Re-publish what a crashed run may have recorded without announcing it."""
    sent = [
        SentMessage(
            message_id=d["_id"],
            campaign_id=cid,
            customer_id=d["customer_id"],
            vendor_message_id=d["vendor_message_id"],
            at=d.get("sent_at") or d["updated_at"],
        )
        for d in docs
        if d.get("vendor_message_id") and d["status"] != HELD
    ]
    failed = [
        FailedMessage(
            message_id=d["_id"],
            campaign_id=cid,
            customer_id=d["customer_id"],
            reason=d.get("reason", "failed"),
            at=d["updated_at"],
        )
        for d in docs
        if d["status"] == FAILED and not d.get("vendor_message_id")
    ]
    cancelled = [d["customer_id"] for d in docs if d["status"] == CANCELLED]
    deps.publish_outcomes(sent, failed)
    if cancelled:
        deps.publish([MessagesCancelled(campaign_id=cid, customer_ids=cancelled, at=now_utc())])
    experiment.announce_held_out(cid, experiment.held_out_again(docs), deps)
