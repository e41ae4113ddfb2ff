"""Group ``receipt``: vendor receipts move ``sent`` rows to ``delivered``/``failed``.

One read of the current statuses, one bulk of conditional updates (filter
``status: sent``): a receipt never moves a status backwards and a duplicate is a
no-op. A receipt can overtake its own ``sent`` row (the vendor answered faster than the
send worker wrote); such receipts are applied on a later delivery of the entry, which
is left pending by a TransientError.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from libs.common.errors import TransientError
from libs.common.events import Event, Receipt, ReceiptsReceived
from services.delivery.context import Deps, utcnow
from services.delivery.dispatch import record_finished
from services.delivery.models import DELIVERED, FAILED, SENT


def handle_receipts(events: list[ReceiptsReceived], deps: Deps) -> None:
    now = utcnow()
    receipts: dict[str, Receipt] = {}
    for event in events:
        for receipt in event.receipts:
            receipts.setdefault(receipt.message_id, receipt)
    current = deps.store.statuses(list(receipts))
    changes: list[tuple[str, dict[str, Any]]] = []
    outcomes: dict[str, list[bool]] = defaultdict(list)
    for mid, receipt in receipts.items():
        if current.get(mid) != SENT:
            continue
        failed = receipt.status == "FAILED"
        fields: dict[str, Any] = {
            "status": FAILED if failed else DELIVERED,
            "final_at": receipt.at,
            "updated_at": now,
        }
        if receipt.reason:
            fields["reason"] = receipt.reason
        changes.append((mid, fields))
        outcomes[receipt.campaign_id].append(failed)
    deps.store.apply_final(changes)
    for campaign_id, failed_flags in outcomes.items():
        record_finished(deps, campaign_id, failed_flags, now)
    unknown = [mid for mid in receipts if mid not in current]
    if unknown:
        raise TransientError(
            f"{len(unknown)} receipts for messages not recorded yet: {unknown[:3]}"
        )


def ignore(events: list[Event], deps: Deps) -> None:
    """Entries of the stream meant for other groups."""
