"""Group ``receipt``: vendor receipts move ``sent`` rows to ``delivered``/``failed``.

One ``update_many`` per distinct outcome (delivered, or failed with a given reason) over
the rows still ``sent`` and, usually, nothing else: a receipt never moves a status
backwards and a duplicate is a no-op. Each update also stamps the rows with this call's
``receipt_batch`` token. When fewer rows matched than receipts were given (duplicates,
or a receipt that overtook its own ``sent`` row because the vendor answered faster than
the send worker wrote), one read of those rows tells which ones this call moved (its
token), which were final already, which were written meanwhile (still ``sent``: updated
again at once) and which do not exist yet; the latter are tried again a few times a
moment later (``receipt_attempts``, ``receipt_retry_s``: the send worker usually writes
them within that time) and then left to a later delivery of the entry, which is left
pending by a TransientError. So a receipt costs one database write (in a statement
shared with the batch's other receipts of the same outcome), plus a read only in those
cases.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from libs.common.errors import TransientError
from libs.common.events import Event, Receipt, ReceiptsReceived
from services.delivery.context import Deps, utcnow
from services.delivery.dispatch import record_finished
from services.delivery.metrics import MESSAGES
from services.delivery.models import DELIVERED, FAILED, SENT


def handle_receipts(events: list[ReceiptsReceived], deps: Deps) -> None:
    now = utcnow()
    token = uuid.uuid4().hex[:16]
    receipts: dict[str, Receipt] = {}
    for event in events:
        for receipt in event.receipts:
            receipts.setdefault(receipt.message_id, receipt)
    marks: dict[str, tuple[str, str]] = {}  # message id -> (status, token) after the update
    todo = list(receipts)
    for attempt in range(deps.settings.receipt_attempts):
        if attempt:
            # Receipts ahead of their rows: the send worker writes them a moment later.
            time.sleep(deps.settings.receipt_retry_s)
        if _apply([receipts[mid] for mid in todo], token, now, deps) == len(todo):
            marks.update({mid: ("", token) for mid in todo})
            todo = []
            break
        marks.update(deps.store.receipt_marks(todo))
        # A row still ``sent`` was written by the send worker after the update ran: the
        # receipt has not been applied to it yet, so apply it now.
        late = [mid for mid in todo if marks.get(mid, ("", ""))[0] == SENT]
        if late:
            _apply([receipts[mid] for mid in late], token, now, deps)
            marks.update(deps.store.receipt_marks(late))
        todo = [mid for mid in todo if mid not in marks or marks[mid][0] == SENT]
        if not todo:
            break
    outcomes: dict[str, list[bool]] = defaultdict(list)
    for mid, receipt in receipts.items():
        if marks.get(mid, ("", ""))[1] != token:
            continue  # final already (a duplicate), or not recorded yet
        failed = receipt.status == "FAILED"
        MESSAGES.labels(FAILED if failed else DELIVERED).inc()
        outcomes[receipt.campaign_id].append(failed)
    for campaign_id, failed_flags in outcomes.items():
        record_finished(deps, campaign_id, failed_flags, now)
    if todo:
        raise TransientError(f"{len(todo)} receipts for messages not recorded yet: {todo[:3]}")


def _apply(receipts: list[Receipt], token: str, now: datetime, deps: Deps) -> int:
    """Move the receipts' rows that are still ``sent``; returns how many matched.

    Receipts that set the same fields share one update_many: the fields are the status,
    the failure reason and this call's time and token (the vendor's own receipt time
    travels on in the stream entry, for the campaign timeline and the ai read model).
    """
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for receipt in receipts:
        status = FAILED if receipt.status == "FAILED" else DELIVERED
        groups[(status, receipt.reason or "")].append(receipt.message_id)
    changes: list[tuple[list[str], dict[str, Any]]] = []
    for (status, reason), ids in groups.items():
        fields: dict[str, Any] = {"status": status, "updated_at": now, "receipt_batch": token}
        if reason:
            fields["reason"] = reason
        changes.append((ids, fields))
    return deps.store.apply_final(changes)


def ignore(events: list[Event], deps: Deps) -> None:
    """Entries of the stream meant for other groups."""
