"""The campaign service's part of erasing a person (``customer.erasure.requested.v1``).

What it keeps of a person, and what erasure does to it:
- ``touches`` (attribution) and ``journey_states``: re-keyed to the person's anonymous
  id, so results, lift and journey counts stay right; a journey wait still open ends
  (``exited``, ``erased``), nobody is messaged again;
- ``conversions``: the order id becomes an anonymous one, the customer id too;
- ``journey_customers`` / ``journey_orders`` (the projection, name, email, phone) and
  ``attribution_orders``: deleted;
- the Redis tally of each campaign that messaged them: the state moves to the anonymous
  id, so a late receipt still counts once.
Then ``erasure.confirmed.v1`` with what was changed. Each step is idempotent: a
redelivered request finds nothing left to change and confirms again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from libs.common.erasure import anonymous_id, erase_and_confirm
from libs.common.events import ErasureRequested
from libs.common.logging import get_logger
from libs.common.streams.producer import StreamProducer
from services.campaign.attribution_store import AttributionStore
from services.campaign.clock import to_ms
from services.campaign.journeys.store import EXITED, WAITING, JourneyStore
from services.campaign.tally import Tally

log = get_logger(__name__)
SERVICE = "campaign"

Doc = dict[str, Any]


@dataclass
class ErasureDeps:
    attribution: AttributionStore
    journeys: JourneyStore
    tally: Tally
    producer: StreamProducer


def anonymous_order_id(order_id: str) -> str:
    return "erased-order-" + hashlib.sha256(f"order:{order_id}".encode()).hexdigest()[:24]


def _rekeyed(doc: Doc, customer_id: str, anonymous: str) -> Doc:
    """``<scope>:<customer>`` ids become ``<scope>:<anonymous>``."""
    scope = str(doc["_id"]).rsplit(":", 1)[0]
    return {**doc, "_id": f"{scope}:{anonymous}", "customer_id": anonymous}


def _swapped(value: Any, replacements: dict[str, str]) -> Any:
    """The value with each text that is one of the keys, whole or as a ``:``-separated
    part (``order:<id>``, a journey state's trigger reference), replaced."""
    if isinstance(value, str):
        return ":".join(replacements.get(part, part) for part in value.split(":"))
    if isinstance(value, dict):
        return {k: _swapped(v, replacements) for k, v in value.items()}
    if isinstance(value, list):
        return [_swapped(v, replacements) for v in value]
    return value


def _replace(collection: Any, docs: Sequence[tuple[Doc, Doc]]) -> None:
    """Write each new document before deleting the old one (a crash between the two
    leaves both, and the redelivered request deletes the old one)."""
    for old, new in docs:
        collection.replace_one({"_id": new["_id"]}, new, upsert=True)
        collection.delete_one({"_id": old["_id"]})


def erase_customer(deps: ErasureDeps, customer_id: str, now: datetime) -> dict[str, int]:
    anonymous = anonymous_id(customer_id)
    changed: dict[str, int] = {}

    touches = list(deps.attribution.touches.find({"customer_id": customer_id}))
    _replace(deps.attribution.touches, [(t, _rekeyed(t, customer_id, anonymous)) for t in touches])
    deps.tally.rename_customer([str(t["campaign_id"]) for t in touches], customer_id, anonymous)
    changed["touches"] = len(touches)

    conversions = list(deps.attribution.conversions.find({"customer_id": customer_id}))
    order_ids = [str(c["_id"]) for c in conversions] + [
        str(o["_id"]) for o in deps.journeys.orders_of([customer_id])
    ]
    order_ids += [str(o["_id"]) for o in deps.attribution.orders_of([customer_id])]
    replacements = {o: anonymous_order_id(o) for o in order_ids}
    replacements[customer_id] = anonymous
    _replace(
        deps.attribution.conversions,
        [
            (c, {**c, "_id": anonymous_order_id(str(c["_id"])), "customer_id": anonymous})
            for c in conversions
        ],
    )
    changed["conversions"] = len(conversions)

    states = []
    for state in deps.journeys.states_of_customer(customer_id):
        new = _swapped(_rekeyed(state, customer_id, anonymous), replacements)
        if new.get("status") == WAITING:
            new.update(status=EXITED, exit_reason="erased", due_ms=0, lease_ms=0)
        new["updated_ms"] = to_ms(now)
        states.append((state, new))
    _replace(deps.journeys.states, states)
    changed["journey_states"] = len(states)

    changed["attribution_orders"] = deps.attribution.orders.delete_many(
        {"customer_id": customer_id}
    ).deleted_count
    changed["journey_customers"] = deps.journeys.customers.delete_many(
        {"_id": customer_id}
    ).deleted_count
    changed["journey_orders"] = deps.journeys.orders.delete_many(
        {"customer_id": customer_id}
    ).deleted_count
    return {name: n for name, n in changed.items() if n}


def erasure_requested(events: list[ErasureRequested], deps: ErasureDeps) -> None:
    erase_and_confirm(
        events,
        SERVICE,
        lambda cid: erase_customer(deps, cid, datetime.now(UTC)),
        deps.producer.publish,
    )
