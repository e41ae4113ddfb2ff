"""Group ``pacing`` of the ingest worker: delivery's pacing, kept for the audience
preview ("how many will be deferred or capped", services.ingest.audience.pacing).

- ``DeliveryPolicyChanged``: the policy is kept in ``pacing_policy`` (newest wins);
- ``CapsReached``: the customers at their cap are kept in ``capped_customers`` and then
  announced on ``ingest.changes``, so every API process's read model counts them.
Both are idempotent: a redelivered entry writes the same state again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from libs.common.clock import epoch_ms, now_utc
from libs.common.events import CapsReached, DeliveryPolicyChanged
from libs.common.logging import get_logger
from libs.common.registry import Registry, on
from libs.common.streams import PACING
from services.ingest.audience.changes import notify_caps
from services.ingest.handlers import Deps
from services.ingest.pacing_store import PacingStore

log = get_logger(__name__)
PRUNE_EVERY_S = 3600.0  # caps that ended are dropped at most this often per process


class _Pruning:
    """When this process last dropped the caps that ended (a scan of the collection)."""

    at = -PRUNE_EVERY_S


def on_policy_changed(events: Sequence[DeliveryPolicyChanged], deps: Deps) -> None:
    store = PacingStore(deps.store.db)
    for event in sorted(events, key=lambda e: e.changed_at):
        doc = event.model_dump(mode="json", exclude={"changed_at"})
        doc["changed_ms"] = epoch_ms(event.changed_at)
        if store.save_policy(doc):
            log.info("pacing.policy_kept", changed_ms=doc["changed_ms"])


def on_caps_reached(events: Sequence[CapsReached], deps: Deps) -> None:
    store = PacingStore(deps.store.db)
    by_channel: dict[str, dict[str, int]] = {}
    for event in events:
        latest = by_channel.setdefault(event.channel, {})
        for person in event.customers:
            until = epoch_ms(person.until)
            latest[person.customer_id] = max(until, latest.get(person.customer_id, 0))
    for channel, latest in by_channel.items():
        capped = sorted(latest.items())
        store.record_caps(channel, capped)
        notify_caps(deps.redis, channel, capped, deps.settings.changes_maxlen)
    _prune(store)
    log.info("pacing.caps_kept", customers=sum(len(v) for v in by_channel.values()))


def _prune(store: PacingStore) -> None:
    if time.monotonic() - _Pruning.at >= PRUNE_EVERY_S:
        _Pruning.at = time.monotonic()
        store.prune(epoch_ms(now_utc()))


PACING_HANDLERS: Registry[Deps] = Registry(
    PACING,
    "pacing",
    routes=[on(DeliveryPolicyChanged, on_policy_changed), on(CapsReached, on_caps_reached)],
)
