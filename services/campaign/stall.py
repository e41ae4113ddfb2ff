"""Which active campaigns stopped moving with members still waiting. Pure: no I/O.

A campaign is stalled when its progress (audience size and how many messages reached
any state) has not changed for ``after_s`` while it is launching or running with
members that have no final state. The scheduler then replays its launch
(services.ingest.audience.launches): what the streams lost (for example the last second of a
Redis that crashed) is found by checking the stored audience, not the counters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.campaign import stats

Signature = tuple[int | None, int]


def signature(doc: dict[str, Any]) -> Signature:
    """What changes while a campaign makes progress."""
    audience = doc.get("audience_size")
    counts = doc.get("counts") or {}
    return (None if audience is None else int(audience), sum(int(n) for n in counts.values()))


def waiting(doc: dict[str, Any]) -> bool:
    """Launching, or running with members that have no final state."""
    if doc.get("status") == "launching":
        return True
    return doc.get("status") == "running" and not stats.is_finished(doc)


@dataclass
class StallWatch:
    after_s: float
    _seen: dict[str, tuple[Signature, float]] = field(default_factory=dict)

    def stalled(self, doc: dict[str, Any], now_s: float) -> bool:
        """True once ``doc`` has waited unchanged for ``after_s``; the clock restarts
        then, so a campaign still stalled is reported again ``after_s`` later."""
        cid = doc["_id"]
        if not waiting(doc):
            self._seen.pop(cid, None)
            return False
        current = signature(doc)
        seen = self._seen.get(cid)
        if seen is None or seen[0] != current:
            self._seen[cid] = (current, now_s)
            return False
        if now_s - seen[1] < self.after_s:
            return False
        self._seen[cid] = (current, now_s)
        return True

    def forget_except(self, active_ids: set[str]) -> None:
        for cid in set(self._seen) - active_ids:
            del self._seen[cid]
