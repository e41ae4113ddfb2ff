"""The AI service's part of erasing a person (``customer.erasure.requested.v1``).

Its read models are logs of records (services.ai.store), so every collection is read
and each document that mentions the person is rewritten without them (or deleted when
it is theirs): libs.common.erasure.Scrubber. A full pass, fine for the rare erasure;
then ``erasure.confirmed.v1`` with what was changed.
"""

from __future__ import annotations

from typing import Any

from libs.common.erasure import DROP, UNCHANGED, Scrubber, erase_and_confirm
from libs.common.events import ErasureRequested
from libs.common.logging import get_logger
from libs.common.streams.producer import StreamProducer
from services.ai.store import AiStore

log = get_logger(__name__)
SERVICE = "ai"


def personal_texts(store: AiStore, customer_id: str) -> list[str]:
    """The person's name, email and phone, as the customer log holds them."""
    found: list[str] = []
    for doc in store.db.customer_log.find({}):
        for record in doc.get("records", []) or []:
            if isinstance(record, dict) and record.get("id") == customer_id:
                found += [str(record[k]) for k in ("name", "email", "phone") if record.get(k)]
    return found


def erase(store: AiStore, customer_id: str) -> dict[str, int]:
    scrubber = Scrubber(customer_id, personal_texts(store, customer_id))
    changed: dict[str, int] = {}
    for name in store.db.list_collection_names():
        collection = store.db[name]
        count = 0
        for doc in list(collection.find({})):
            new: Any = scrubber.scrub(doc)
            if new is UNCHANGED:
                continue
            collection.delete_one({"_id": doc["_id"]})
            if new is not DROP:
                collection.insert_one(new)
            count += 1
        if count:
            changed[name] = count
    return changed


def erasure_requested(
    events: list[ErasureRequested], store: AiStore, producer: StreamProducer
) -> None:
    erase_and_confirm(events, SERVICE, lambda cid: erase(store, cid), producer.publish)
