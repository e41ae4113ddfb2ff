"""Who an audience leaves out before anything is sent: unsubscribed people and
suppressed addresses, for the campaign's channel. The same rule on three paths: the
columnar read model (preview, and the resolver's ids), a MongoDB filter (preview
without the model, the resolver's own walk) and one document (the resolver's last
check, services.ingest.consent.exclusion)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from services.ingest.audience.columns import Columns
from services.ingest.consent import ADDRESS_PATH, state_path
from services.ingest.store import portable

Doc = dict[str, Any]


def column_exclusions(
    columns: Columns, mask: np.ndarray, channel: str, suppressed: Sequence[str]
) -> tuple[np.ndarray, dict[str, int]]:
    """The mask without the excluded rows, and how many each reason left out."""
    n = columns.n
    unsubscribed = columns.texts[state_path(channel)].equals_any(["unsubscribed"], n) & mask
    rest = mask & ~unsubscribed
    if suppressed:
        blocked = columns.texts[ADDRESS_PATH[channel]].equals_any(suppressed, n) & rest
    else:
        blocked = np.zeros(n, dtype=bool)
    counts = {
        "unsubscribed": int(np.count_nonzero(unsubscribed)),
        "suppressed": int(np.count_nonzero(blocked)),
    }
    return rest & ~blocked, counts


def not_unsubscribed(channel: str) -> Doc:
    return {state_path(channel): {"$ne": "unsubscribed"}}


def not_suppressed(channel: str, suppressed: Sequence[str]) -> Doc:
    return {ADDRESS_PATH[channel]: {"$nin": list(suppressed)}} if suppressed else {}


def with_exclusions(flt: Doc, channel: str, suppressed: Sequence[str]) -> Doc:
    """``flt`` (an audience filter) without the excluded customers."""
    parts = [flt, not_unsubscribed(channel), not_suppressed(channel, suppressed)]
    combined: Doc = portable({"$and": [p for p in parts if p]})
    return combined
