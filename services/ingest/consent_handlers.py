"""Group ``consent`` of the ingest worker: consent changes, suppressions, erasure.

Ingest owns the customers, so it owns what may be sent to them: consent on the
customer, the suppression list, and the record of each erasure. Every handler is
idempotent: a consent write that finds the state already set writes nothing, a listed
address is not listed twice, an erased customer erased again removes nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from libs.common.consent import address_hash
from libs.common.erasure import erase_and_confirm
from libs.common.errors import TransientError
from libs.common.events import (
    ConsentChanged,
    ErasureConfirmed,
    ErasureRequested,
    SuppressionChange,
    SuppressionRequested,
    SuppressionsChanged,
)
from libs.common.logging import get_logger
from libs.common.registry import Registry, on
from libs.common.streams import CONSENT
from services.ingest.aggregates import version_of
from services.ingest.audience.changes import notify_changed
from services.ingest.consent import state_path, with_consent
from services.ingest.consent_store import ConsentStore, suppression_doc
from services.ingest.handlers import Deps
from services.ingest.pacing_store import PacingStore
from services.ingest.store import WRITE_SLICE

log = get_logger(__name__)
Doc = dict[str, Any]
SERVICE = "ingest"
IDEMPOTENCY_PATTERN = "ingest:idem:*"


def consent_store(deps: Deps) -> ConsentStore:
    return ConsentStore(deps.store.db)


def set_consent(
    deps: Deps, customer_id: str, channel: str, state: str, source: str, now: datetime
) -> bool:
    """Write one customer's consent (version-guarded, retried on a lost race) and
    announce the document to the read model; False when there is no such customer."""
    customers = deps.store.customers
    for _ in range(8):
        old = customers.find_one({"_id": customer_id})
        if old is None:
            return False
        if old.get(state_path(channel), "unknown") == state:
            return True
        new = with_consent(old, channel, state, source, now)
        new.update(version=version_of(old) + 1, updated_at=now)
        guard: Doc = {"_id": customer_id}
        guard["version"] = old.get("version", {"$exists": False})
        if customers.replace_one(guard, new).matched_count:
            notify_changed(deps.redis, [new], deps.settings.changes_maxlen, WRITE_SLICE)
            return True
    raise TransientError(f"customer {customer_id} kept changing under a consent write")


def on_consent_changed(events: Sequence[ConsentChanged], deps: Deps) -> None:
    store = consent_store(deps)
    for event in events:
        found = set_consent(
            deps, event.customer_id, event.channel, event.state, event.source, event.at
        )
        if found and event.state == "unsubscribed" and event.campaign_id:
            store.record_unsubscription(
                event.campaign_id, event.customer_id, event.channel, event.at
            )
    log.info("consent.changed", events=len(events))


def add_suppressions(deps: Deps, docs: Sequence[Doc]) -> list[Doc]:
    """List the addresses; tell delivery about the new ones."""
    new = consent_store(deps).add_suppressions(docs)
    announce_suppressions(deps, new, suppressed=True)
    return new


def announce_suppressions(deps: Deps, docs: Sequence[Doc], *, suppressed: bool) -> None:
    if docs:
        changes = [
            SuppressionChange(channel=d["channel"], address_hash=d["hash"], suppressed=suppressed)
            for d in docs
        ]
        deps.producer.publish([SuppressionsChanged(changes=changes)])


def on_suppression_requested(events: Sequence[SuppressionRequested], deps: Deps) -> None:
    docs = [
        suppression_doc(e.channel, e.address, e.reason, e.source, e.at, e.campaign_id)
        for e in events
    ]
    new = add_suppressions(deps, docs)
    for event in events:
        # the vendor says the person asked to stop: their consent says so too
        if event.reason == "unsubscribed" and event.customer_id:
            set_consent(deps, event.customer_id, event.channel, "unsubscribed", "vendor", event.at)
    log.info("consent.suppressions_requested", events=len(events), new=len(new))


def on_erasure_requested(events: Sequence[ErasureRequested], deps: Deps) -> None:
    erase_and_confirm(events, SERVICE, lambda cid: erase_customer(deps, cid), deps.producer.publish)


def erase_customer(deps: Deps, customer_id: str) -> dict[str, int]:
    """Remove the customer and their orders; keep their addresses suppressed as hashes
    only; blank the read model's row; drop idempotency records that name them."""
    store, consent = deps.store, consent_store(deps)
    doc = store.customers.find_one({"_id": customer_id})
    removed: dict[str, int] = {}
    hashes = []
    if doc is not None:
        for channel, path in (("email", "email"), ("sms", "phone")):
            if doc.get(path):
                hashes.append(address_hash(channel, str(doc[path])))
                docs = [suppression_doc(channel, str(doc[path]), "erased", "erasure", _now())]
                consent.add_suppressions(docs)
        announce_suppressions(
            deps,
            [
                {"channel": ch, "hash": address_hash(ch, str(doc[p]))}
                for ch, p in (("email", "email"), ("sms", "phone"))
                if doc.get(p)
            ],
            suppressed=True,
        )
        consent.forget_addresses(hashes)
        # blanks the read model's row; version 0, so the person imported again shows
        tombstone = {"_id": customer_id, "version": 0, "placeholder": True, "erased": True}
        removed["customers"] = store.customers.delete_one({"_id": customer_id}).deleted_count
        notify_changed(deps.redis, [tombstone], deps.settings.changes_maxlen, WRITE_SLICE)
    removed["orders"] = store.orders.delete_many({"customer_id": customer_id}).deleted_count
    store.resolutions.update_many({"last_id": customer_id}, {"$unset": {"last_id": ""}})
    removed["audience_chunks"] = store.forget_chunk_member(customer_id)
    removed["idempotency"] = _drop_idempotency_records(deps, customer_id)
    removed["capped_customers"] = PacingStore(store.db).forget_customer(customer_id)
    consent.start_erasure(customer_id, _now())
    log.info("consent.customer_erased", removed=removed)
    return removed


def _drop_idempotency_records(deps: Deps, customer_id: str) -> int:
    """Stored answers name the ids they accepted or rejected: drop those naming this one."""
    needle = customer_id.encode()
    dropped = 0
    for key in deps.redis.scan_iter(match=IDEMPOTENCY_PATTERN, count=500):
        value = deps.redis.get(key)
        if value is not None and needle in value:
            dropped += int(deps.redis.delete(key))
    return dropped


def on_erasure_confirmed(events: Sequence[ErasureConfirmed], deps: Deps) -> None:
    store = consent_store(deps)
    for event in events:
        store.confirm_erasure(event.customer_id, event.service, event.removed, event.at)


def _now() -> datetime:
    return datetime.now(UTC)


CONSENT_HANDLERS: Registry[Deps] = Registry(
    CONSENT,
    "consent",
    routes=[
        on(ConsentChanged, on_consent_changed),
        on(SuppressionRequested, on_suppression_requested),
        on(ErasureRequested, on_erasure_requested),
        on(ErasureConfirmed, on_erasure_confirmed),
    ],
    ignored=[SuppressionsChanged],  # this group's own announcements
)
