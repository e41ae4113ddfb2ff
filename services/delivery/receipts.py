"""Group ``receipt``: vendor receipts move ``sent`` rows to ``delivered``/``failed``.

One bulk of conditional updates (filter ``status: sent``) and, usually, nothing else: a
receipt never moves a status backwards and a duplicate is a no-op. Each update also
stamps the row with this call's ``receipt_batch`` token. When fewer rows matched than
receipts were given (duplicates, or a receipt that overtook its own ``sent`` row because
the vendor answered faster than the send worker wrote), one read of those rows tells
which ones this call moved (its token), which were final already and which do not exist
yet; the latter are applied on a later delivery of the entry, which is left pending by
a TransientError. So a receipt costs one database write, plus a read only in those cases.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from libs.common.errors import TransientError
from libs.common.events import Event, Receipt, ReceiptsReceived
from services.delivery.context import Deps, utcnow
from services.delivery.dispatch import record_finished
from services.delivery.metrics import MESSAGES
from services.delivery.models import DELIVERED, FAILED


def handle_receipts(events: list[ReceiptsReceived], deps: Deps) -> None:
    now = utcnow()
    token = uuid.uuid4().hex[:16]
    receipts: dict[str, Receipt] = {}
    for event in events:
        for receipt in event.receipts:
            receipts.setdefault(receipt.message_id, receipt)
    changes: list[tuple[str, dict[str, Any]]] = []
    for mid, receipt in receipts.items():
        fields: dict[str, Any] = {
            "status": FAILED if receipt.status == "FAILED" else DELIVERED,
            "final_at": receipt.at,
            "updated_at": now,
            "receipt_batch": token,
        }
        if receipt.reason:
            fields["reason"] = receipt.reason
        changes.append((mid, fields))
    matched = deps.store.apply_final(changes)
    unknown: list[str] = []
    if matched == len(changes):
        applied = list(receipts)
    else:
        marks = deps.store.receipt_marks(list(receipts))
        applied = [mid for mid in receipts if marks.get(mid) == token]
        unknown = [mid for mid in receipts if mid not in marks]
    outcomes: dict[str, list[bool]] = defaultdict(list)
    for mid in applied:
        failed = receipts[mid].status == "FAILED"
        MESSAGES.labels(FAILED if failed else DELIVERED).inc()
        outcomes[receipts[mid].campaign_id].append(failed)
    for campaign_id, failed_flags in outcomes.items():
        record_finished(deps, campaign_id, failed_flags, now)
    if unknown:
        raise TransientError(
            f"{len(unknown)} receipts for messages not recorded yet: {unknown[:3]}"
        )


def ignore(events: list[Event], deps: Deps) -> None:
    """Entries of the stream meant for other groups."""
