"""Group ``receipt``: the rows of sent messages, and their final status.

The handler sees a run of consecutive entries of the ``receipt`` stream, whatever their
type (one handler object for all of them: libs.common.streams.consumer). Whichever of a
message's announcement and its receipt is read first writes its row; the other one
completes it:

- ``MessagesSent`` carries what the vendor accepted and what was sent. Its rows are
  written here, in one bulk insert. A message whose receipt is in the same run is
  inserted final at once: **one database write per message**. The others are
  inserted ``sent`` and take a second write when their receipt comes. The share of
  one-write messages grows with the backlog: a worker that keeps up reads few entries
  at a time and pays two writes, one that the database holds back reads
  ``receipt_batch_entries`` at a time and pays about one.
- ``ReceiptsReceived`` moves the rows still ``sent`` to ``delivered``/``failed``: one
  ``update_many`` per distinct outcome, never backwards, a duplicate is a no-op. Each
  update also stamps the rows with this call's ``receipt_batch`` token. When fewer
  rows matched than receipts were given, one read of those rows tells which ones this
  call moved (its token), which were final already (duplicates), which were written
  meanwhile (still ``sent``: updated again at once) and which do not exist: those are
  inserted final from the receipt alone, and their announcement, read later, adds what
  was sent (``complete_rows``). A row still ``held`` (the control worker's resume
  between the vendor's answer and its write) is tried again a few times a moment later
  (``receipt_attempts``, ``receipt_retry_s``) and then left to a later delivery of the
  entry, which is left pending by a TransientError.

Each receipt's outcome feeds the auto-pause window once: only where this call moved
the row (inserted it final, or stamped it with its token).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from libs.common.clock import now_utc
from libs.common.errors import TransientError
from libs.common.events import Event, MessagesSent, Receipt, ReceiptsReceived, SentMessage
from libs.common.logging import get_logger
from services.delivery.consent import request_suppressions
from services.delivery.context import Deps
from services.delivery.dispatch import record_finished
from services.delivery.metrics import MESSAGES, ROW_WRITES
from services.delivery.models import DELIVERED, FAILED, HELD, SENT
from services.delivery.rows import communication

log = get_logger(__name__)

Marks = dict[str, tuple[str, str]]  # message id -> (status, token) after the writes


def handle_receipt_stream(events: Sequence[Event], deps: Deps) -> None:
    """A run of the ``receipt`` stream's entries (``MessagesFailed`` and
    ``MessagesCancelled`` are for other groups: their rows are written already)."""
    _write_rows(events, deps)
    request_suppressions(events, deps)


def _write_rows(events: Sequence[Event], deps: Deps) -> None:
    writes = ReceiptWrites(deps, now_utc(), uuid.uuid4().hex[:16])
    sent: dict[str, SentMessage] = {}
    receipts: dict[str, Receipt] = {}
    for event in events:
        if isinstance(event, MessagesSent):
            for message in event.messages:
                if message.channel is not None:  # None: announced again, row written
                    sent.setdefault(message.message_id, message)
        elif isinstance(event, ReceiptsReceived):
            for receipt in event.receipts:
                receipts.setdefault(receipt.message_id, receipt)
    if sent:
        writes.write_sent(sent, receipts)
    todo = [mid for mid in receipts if mid not in writes.marks]
    if todo:
        todo = writes.apply_receipts(receipts, todo)
    writes.count_outcomes(receipts)
    writes.report(len(sent.keys() | receipts.keys()))
    if todo:
        raise TransientError(f"{len(todo)} receipts for rows still held: {todo[:3]}")


class ReceiptWrites:
    """The writes of one run, and what they did to each row (``marks``)."""

    def __init__(self, deps: Deps, now: datetime, token: str) -> None:
        self.deps = deps
        self.store = deps.store
        self.now = now
        self.token = token
        self.marks: Marks = {}
        self.inserted_final: set[str] = set()  # counted by the insert's metric already
        self.writes: Counter[str] = Counter()  # rows written, by write (ROW_WRITES)

    def write_sent(self, sent: dict[str, SentMessage], receipts: dict[str, Receipt]) -> None:
        """Insert the sent messages' rows, final where the run holds their receipt. A row
        there already was written from its receipt (completed here) or by an earlier
        announcement (its receipt, if any, is applied as an update)."""
        rows = [_sent_row(m, receipts.get(mid), self.token, self.now) for mid, m in sent.items()]
        existing = set(self.store.insert_new(rows))
        final = [mid for mid in sent if mid in receipts and mid not in existing]
        self._inserted_final(final)
        self.writes["insert_final"] += len(final)
        self.writes["insert_sent"] += len(rows) - len(existing) - len(final)
        if existing:
            contents = [(mid, _content(sent[mid])) for mid in existing]
            self.writes["complete"] += self.store.complete_rows(contents)

    def apply_receipts(self, receipts: dict[str, Receipt], todo: list[str]) -> list[str]:
        """Move the rows of ``todo`` that are still ``sent``, write the missing ones final;
        returns the receipts left for a later delivery (rows still held)."""
        settings = self.deps.settings
        for attempt in range(settings.receipt_attempts):
            if attempt:
                time.sleep(settings.receipt_retry_s)  # a resume writes the row meanwhile
            if self._update([receipts[mid] for mid in todo]) == len(todo):
                self.marks.update({mid: ("", self.token) for mid in todo})
                return []
            self.marks.update(self.store.receipt_marks(todo))
            missing = [mid for mid in todo if mid not in self.marks]
            if missing:
                self._insert_from_receipts([receipts[mid] for mid in missing])
            # A row still ``sent`` was written after the update ran: apply it now.
            late = [mid for mid in todo if self.marks.get(mid, ("", ""))[0] == SENT]
            if late:
                self._update([receipts[mid] for mid in late])
                self.marks.update(self.store.receipt_marks(late))
            # left: rows not found, still sent, or still held (a final row is done)
            todo = [mid for mid in todo if self._still_open(mid)]
            if not todo:
                return []
        return todo

    def _still_open(self, mid: str) -> bool:
        status, token = self.marks.get(mid, ("", ""))
        return token != self.token and status in ("", SENT, HELD)

    def count_outcomes(self, receipts: dict[str, Receipt]) -> None:
        """Feed the auto-pause window with the receipts this call applied, once each."""
        outcomes: dict[str, list[bool]] = defaultdict(list)
        for mid, receipt in receipts.items():
            if self.marks.get(mid, ("", ""))[1] != self.token:
                continue  # final already (a duplicate), or not recorded yet
            failed = receipt.status == "FAILED"
            if mid not in self.inserted_final:
                MESSAGES.labels(FAILED if failed else DELIVERED).inc()
            outcomes[receipt.campaign_id].append(failed)
        for campaign_id, failed_flags in outcomes.items():
            record_finished(self.deps, campaign_id, failed_flags, self.now)

    def _insert_from_receipts(self, receipts: list[Receipt]) -> None:
        """Rows final from their receipt alone (their announcement is read later)."""
        rows = [_receipt_row(r, self.token, self.now) for r in receipts]
        existing = self.store.insert_new(rows)
        written_meanwhile = set(existing)
        inserted = [r.message_id for r in receipts if r.message_id not in written_meanwhile]
        self._inserted_final(inserted)
        self.writes["insert_from_receipt"] += len(inserted)
        if existing:  # written meanwhile: what they hold now
            self.marks.update(self.store.receipt_marks(existing))

    def _inserted_final(self, ids: list[str]) -> None:
        self.inserted_final.update(ids)
        self.marks.update({mid: ("", self.token) for mid in ids})

    def _update(self, receipts: list[Receipt]) -> int:
        """Move the receipts' rows that are still ``sent``; returns how many matched.
        Receipts that set the same fields share one update_many."""
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        fields_of: dict[tuple[str, str], dict[str, Any]] = {}
        for receipt in receipts:
            fields = _final_fields(receipt, self.token, self.now)
            key = (fields["status"], fields.get("reason", ""))
            groups[key].append(receipt.message_id)
            fields_of.setdefault(key, fields)
        matched = self.store.apply_final([(ids, fields_of[key]) for key, ids in groups.items()])
        self.writes["update"] += matched
        return matched

    def report(self, messages: int) -> None:
        """The run's writes, in the metric and in one log event."""
        for write, count in self.writes.items():
            if count:
                ROW_WRITES.labels(write).inc(count)
        if messages:
            log.info("delivery.rows_written", messages=messages, **self.writes)


def _content(message: SentMessage) -> dict[str, Any]:
    """What an announcement adds to its row: what was sent, and when."""
    return {
        "to": message.to,
        "channel": message.channel,
        "body": message.body,
        "created_at": message.at,
        "sent_at": message.at,
        **({"headers": message.headers} if message.headers else {}),
    }


def _sent_row(
    message: SentMessage, receipt: Receipt | None, token: str, now: datetime
) -> dict[str, Any]:
    final = receipt is not None
    return communication(
        message.message_id,
        message.campaign_id,
        message.customer_id,
        status=_final_status(receipt) if receipt is not None else SENT,
        created_at=message.at,
        updated_at=now if final else message.at,
        to=message.to,
        channel=message.channel,
        body=message.body,
        headers=dict(message.headers) if message.headers else None,
        vendor_message_id=message.vendor_message_id,
        sent_at=message.at,
        reason=(receipt.reason or None) if receipt is not None else None,
        receipt_batch=token if final else None,
    )


def _receipt_row(receipt: Receipt, token: str, now: datetime) -> dict[str, Any]:
    return communication(
        receipt.message_id,
        receipt.campaign_id,
        receipt.customer_id,
        status=_final_status(receipt),
        created_at=now,
        vendor_message_id=receipt.vendor_message_id,
        reason=receipt.reason or None,
        receipt_batch=token,
    )


def _final_status(receipt: Receipt) -> str:
    return FAILED if receipt.status == "FAILED" else DELIVERED


def _final_fields(receipt: Receipt, token: str, now: datetime) -> dict[str, Any]:
    """What a receipt sets on its row: the status, the failure reason, this call's time
    and token (the vendor's own receipt time travels on in the stream entry, for the
    campaign timeline and the ai read model)."""
    fields: dict[str, Any] = {
        "status": _final_status(receipt),
        "updated_at": now,
        "receipt_batch": token,
    }
    if receipt.reason:
        fields["reason"] = receipt.reason
    return fields
