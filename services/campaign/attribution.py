"""Which campaign an order is a conversion of: last touch within the window.

A touch is a delivered message (or a holdout customer held out) of a campaign; an order
placed by that customer at most ``attribution_days`` after the touch (7 unless the
campaign says) is a conversion of the campaign — of the most recent qualifying touch
when several do (last touch). Holdout touches count the same way, so a held-out
customer who would have bought anyway is counted against the campaign's lift.

Touches are recorded from the ``receipt`` stream (``MessagesSent`` for variant
campaigns, ``ReceiptsReceived`` DELIVERED, ``MessagesHeldOut``) keyed by the message's
campaign id, whatever sent it: a journey's message that flows through delivery is a
touch of its own id and is attributed by the same rule. Orders come from the ``ingest``
stream (group ``campaign``); this service keeps its own collections
(services.campaign.attribution_store) and never reads ingest's.

The order of arrival does not matter: orders are kept (``attribution_orders``) and each
batch of new touches re-attributes the orders of its customers, so an order read before
the receipt of the message it follows becomes that message's conversion when the
receipt arrives, and a conversion moves to a later-read touch that is its last touch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC
from typing import Any

from libs.common.assignment import HOLDOUT
from libs.common.events import (
    Experiment,
    MessagesHeldOut,
    MessagesSent,
    OrdersRecorded,
    ReceiptsReceived,
)
from services.campaign import experiments
from services.campaign.attribution_store import AttributionStore
from services.campaign.clock import to_ms
from services.campaign.experiments import DEFAULT_ATTRIBUTION_DAYS
from services.campaign.journeys.runner import JOURNEY_PREFIX
from services.campaign.store import CampaignStore

Doc = dict[str, Any]
DAY_MS = 24 * 3600 * 1000


def pick_touch(placed_ms: int, touches: Iterable[Doc], window_days: dict[str, int]) -> Doc | None:
    """The last touch before ``placed_ms`` whose window still holds it."""
    best: Doc | None = None
    for touch in touches:
        at = int(touch["touched_ms"])
        days = window_days.get(touch["campaign_id"], DEFAULT_ATTRIBUTION_DAYS)
        if at <= placed_ms <= at + days * DAY_MS and (best is None or at > int(best["touched_ms"])):
            best = touch
    return best


class CampaignSetups:
    """Each campaign's experiment and attribution window, read once per process (both
    are fixed at creation). Unknown ids (a journey's) have neither."""

    def __init__(self, store: CampaignStore) -> None:
        self.store = store
        self._known: dict[str, tuple[Experiment | None, int]] = {}
        self._lock = threading.Lock()

    def get(self, campaign_ids: Iterable[str]) -> dict[str, tuple[Experiment | None, int]]:
        # a journey's message has neither, and no campaign document to look for
        wanted = {cid for cid in campaign_ids if not cid.startswith(JOURNEY_PREFIX)}
        with self._lock:
            missing = wanted - self._known.keys()
        if missing:
            found = {d["_id"]: d for d in self.store.campaigns_by_ids(missing)}
            with self._lock:
                for cid in missing:
                    doc = found.get(cid)
                    if doc is None:
                        continue  # not cached: it may be created later
                    setup = experiments.to_event(doc["experiment"]) if "experiment" in doc else None
                    days = int(doc.get("attribution_days", DEFAULT_ATTRIBUTION_DAYS))
                    self._known[cid] = (setup, days)
        with self._lock:
            return {cid: self._known[cid] for cid in wanted if cid in self._known}


class Attribution:
    def __init__(self, store: AttributionStore, setups: CampaignSetups) -> None:
        self.store = store
        self.setups = setups

    def _touch(self, campaign_id: str, customer_id: str, setup: Experiment | None) -> Doc:
        doc: Doc = {
            "_id": f"{campaign_id}:{customer_id}",
            "campaign_id": campaign_id,
            "customer_id": customer_id,
        }
        if setup is not None:
            doc["group"] = setup.assign(campaign_id, customer_id).group
        return doc

    def sent(self, events: list[MessagesSent]) -> None:
        """Variant campaigns count their recipients per variant (``sent_ms``)."""
        messages = [m for e in events for m in e.messages]
        setups = self.setups.get(m.campaign_id for m in messages)
        touches = []
        for m in messages:
            setup = setups.get(m.campaign_id, (None, 0))[0]
            if setup is not None:
                touch = self._touch(m.campaign_id, m.customer_id, setup)
                touches.append({**touch, "sent_ms": to_ms(m.at)})
        self.store.set_touches(touches)

    def delivered(self, events: list[ReceiptsReceived]) -> None:
        receipts = [r for e in events for r in e.receipts if r.status == "DELIVERED"]
        setups = self.setups.get(r.campaign_id for r in receipts)
        touches = [
            {
                **self._touch(
                    r.campaign_id, r.customer_id, setups.get(r.campaign_id, (None, 0))[0]
                ),
                "touched_ms": to_ms(r.at),
            }
            for r in receipts
        ]
        self.store.set_touches(touches)
        self._touched(touches)

    def held_out(self, events: list[MessagesHeldOut]) -> None:
        touches = [
            {
                "_id": f"{e.campaign_id}:{cid}",
                "campaign_id": e.campaign_id,
                "customer_id": cid,
                "group": HOLDOUT,
                "touched_ms": to_ms(e.at),
            }
            for e in events
            for cid in e.customer_ids
        ]
        self.store.add_touches(touches)  # the first announcement's time stays
        self._touched(touches)

    def _touched(self, touches: list[Doc]) -> None:
        if touches:
            since = min(int(t["touched_ms"]) for t in touches)
            self.attribute({t["customer_id"] for t in touches}, since)

    def orders(self, events: list[OrdersRecorded]) -> int:
        """Keep each order and attribute it to its customer's last qualifying touch;
        returns how many conversions were written or moved."""
        kept: list[Doc] = []
        for order in (o for e in events for o in e.orders):
            date = order.date if order.date.tzinfo else order.date.replace(tzinfo=UTC)
            kept.append(
                {
                    "_id": order.id,
                    "customer_id": order.customer_id,
                    "amount": float(order.amount),
                    "placed_ms": to_ms(date),
                }
            )
        if not kept:
            return 0
        seen = set(self.store.add_orders(kept))
        # an order id seen before keeps its first version (a redelivery after a crash
        # between keeping and attributing it is attributed now)
        first = self.store.orders_by_id(list(seen))
        return self._attribute_orders([first.get(o["_id"], o) for o in kept])

    def attribute(self, customer_ids: Iterable[str], since_ms: int = 0) -> int:
        """(Re)attribute the kept orders of these customers placed at ``since_ms`` or
        later (new touches: their earliest time; an order before it cannot be theirs);
        only changed conversions are written. Returns how many."""
        return self._attribute_orders(self.store.orders_of(list(customer_ids), since_ms))

    def _attribute_orders(self, orders: list[Doc]) -> int:
        if not orders:
            return 0
        by_customer: dict[str, list[Doc]] = {}
        for touch in self.store.touches_of([o["customer_id"] for o in orders]):
            by_customer.setdefault(touch["customer_id"], []).append(touch)
        if not by_customer:
            return 0
        setups = self.setups.get({t["campaign_id"] for ts in by_customer.values() for t in ts})
        windows = {cid: days for cid, (_, days) in setups.items()}
        wanted: list[Doc] = []
        for order in orders:
            last = pick_touch(
                order["placed_ms"], by_customer.get(order["customer_id"], []), windows
            )
            if last is None:
                continue
            doc: Doc = {**order, "campaign_id": last["campaign_id"]}
            if "group" in last:
                doc["group"] = last["group"]
            wanted.append(doc)
        current = self.store.conversions_by_id([d["_id"] for d in wanted])
        changed = [d for d in wanted if current.get(d["_id"]) != d]
        self.store.save_conversions(changed)
        return len(changed)
