"""Group ``journeys`` on stream ``ingest``: customers and orders start journeys, orders
reach goals, and the projection of customers is kept current.

Every write is idempotent and ordered so that a crash anywhere is repaired by the
entry's redelivery: sends are published first (delivery dedupes them by message id),
then states are written (an entry remembers its trigger, ``trigger_ref``: the order id,
or the stream entry of the customer change, so the same trigger never enters twice),
and the projection last (so a redelivered change is compared with the same "before").
``segment_entered`` compares each changed customer before and after the change: no
scan of the base.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from libs.common.events import CustomersUpserted, OrdersRecorded
from libs.common.logging import get_logger
from libs.common.rules import matches
from libs.common.streams import StreamProducer
from services.campaign.clock import to_ms, utc_now
from services.campaign.journeys.catalog import Catalog
from services.campaign.journeys.definition import (
    CustomerCreated,
    DateAttribute,
    OrderPlaced,
    SegmentEntered,
)
from services.campaign.journeys.projection import customer_doc, order_doc, with_orders
from services.campaign.journeys.runner import (
    Journey,
    Send,
    convert,
    enter,
    rules_of,
    schedule,
)
from services.campaign.journeys.sends import publish_sends
from services.campaign.journeys.store import WAITING, JourneyStore, state_id

log = get_logger(__name__)
Doc = dict[str, Any]


@dataclass
class TriggerDeps:
    store: JourneyStore
    catalog: Catalog
    producer: StreamProducer
    workspace_zone: str


@dataclass
class Candidate:
    journey: Journey
    customer_id: str
    trigger_ref: str


class Moves:
    """States to write and messages to send, collected over one batch."""

    def __init__(self, deps: TriggerDeps) -> None:
        self.deps = deps
        self.states: dict[str, Doc] = {}
        self.expected: dict[str, int | None] = {}
        self.sends: list[Send] = []

    def put(self, sid: str, before: Doc | None, doc: Doc) -> None:
        if sid not in self.states:
            self.expected[sid] = None if before is None else before.get("updated_ms")
        self.states[sid] = doc

    def current(self, known: dict[str, Doc], sid: str) -> Doc | None:
        return self.states.get(sid, known.get(sid))

    def enter_all(
        self,
        candidates: list[Candidate],
        customers: dict[str, Doc],
        now: datetime,
        known: dict[str, Doc] | None = None,
    ) -> None:
        """``known``: the states already read, at least the candidates' (else read here)."""
        if known is None:
            known = self.deps.store.states_of(
                state_id(c.journey.id, c.customer_id) for c in candidates
            )
        for c in candidates:
            sid = state_id(c.journey.id, c.customer_id)
            moved = enter(
                c.journey,
                self.current(known, sid),
                customers.get(c.customer_id),
                c.customer_id,
                c.trigger_ref,
                now,
                self.deps.workspace_zone,
            )
            if moved.state is not None:
                self.put(sid, known.get(sid), moved.state)
                self.sends += moved.sends

    def flush(self, customers: dict[str, Doc]) -> None:
        publish_sends(self.deps.producer, self.sends, customers)
        self.deps.store.write_states(list(self.states.values()), self.expected)
        if self.sends or self.states:
            log.info("journeys.moved", states=len(self.states), sends=len(self.sends))


def _holds(rules: dict[str, Any] | None, doc: Doc | None, now: datetime) -> bool:
    if doc is None:
        return False
    return rules is None or matches(rules_of(rules), doc, now)


def customers_upserted(events: list[CustomersUpserted], deps: TriggerDeps) -> None:
    now = utc_now()
    latest: dict[str, tuple[Any, str]] = {}
    for event in events:
        for record in event.customers:
            latest[record.id] = (record, f"chg:{event.entry_id}:{record.id}")
    old = deps.store.customers_of(latest)
    new = {cid: customer_doc(record, old.get(cid)) for cid, (record, _) in latest.items()}
    journeys = deps.catalog.active()
    moves = Moves(deps)
    candidates: list[Candidate] = []
    dated: list[Journey] = []
    for journey in journeys.values():
        trigger = journey.spec.trigger
        for cid, doc in new.items():
            ref = latest[cid][1]
            before = old.get(cid)
            if isinstance(trigger, CustomerCreated):
                if (before is None or not before.get("known")) and _holds(trigger.rules, doc, now):
                    candidates.append(Candidate(journey, cid, f"created:{cid}"))
            elif (
                isinstance(trigger, SegmentEntered)
                and not _holds(trigger.rules, before, now)
                and _holds(trigger.rules, doc, now)
            ):
                candidates.append(Candidate(journey, cid, ref))
        if isinstance(trigger, DateAttribute):
            dated.append(journey)
    moves.enter_all(candidates, new, now)
    _schedule_dates(moves, dated, new, now)
    moves.flush(new)
    deps.store.save_customers(list(new.values()))


def _schedule_dates(
    moves: Moves, journeys: list[Journey], customers: dict[str, Doc], now: datetime
) -> None:
    if not journeys:
        return
    known = moves.deps.store.states_of(state_id(j.id, cid) for j in journeys for cid in customers)
    for journey in journeys:
        for cid, doc in customers.items():
            sid = state_id(journey.id, cid)
            planned = schedule(
                journey, moves.current(known, sid), doc, now, moves.deps.workspace_zone
            )
            if planned is not None:
                moves.put(sid, known.get(sid), planned)


def orders_recorded(events: list[OrdersRecorded], deps: TriggerDeps) -> None:
    now = utc_now()
    orders = {o.id: o for event in events for o in event.orders}
    if not orders:
        return
    order_docs = [order_doc(o) for o in orders.values()]
    cids = list(dict.fromkeys(o.customer_id for o in orders.values()))
    old = deps.store.customers_of(cids)
    # the kept orders with this batch's as they will be kept (written last, below)
    kept = {d["_id"]: d for d in deps.store.orders_of(cids)}
    kept.update({d["_id"]: d for d in order_docs})
    all_orders: dict[str, list[Doc]] = {}
    for doc in kept.values():
        all_orders.setdefault(doc["customer_id"], []).append(doc)
    # one read of these customers' states serves the goals and the entries
    states = {d["_id"]: d for d in deps.store.states_of_customers(cids)}
    new = {cid: with_orders(cid, old.get(cid), all_orders.get(cid, [])) for cid in cids}
    journeys = deps.catalog.active()
    moves = Moves(deps)
    waiting = [d for d in states.values() if d.get("status") == WAITING]
    _reach_goals(moves, journeys, list(orders.values()), waiting, now)
    candidates: list[Candidate] = []
    for journey in journeys.values():
        trigger = journey.spec.trigger
        if isinstance(trigger, OrderPlaced):
            for order in orders.values():
                doc = new[order.customer_id]
                if trigger.min_amount is not None and order.amount < trigger.min_amount:
                    continue
                if trigger.first_order and not _is_first(
                    order.id, all_orders.get(order.customer_id, [])
                ):
                    continue
                if _holds(trigger.rules, doc, now):
                    candidates.append(Candidate(journey, order.customer_id, f"order:{order.id}"))
        elif isinstance(trigger, SegmentEntered):
            for cid, doc in new.items():
                if not _holds(trigger.rules, old.get(cid), now) and _holds(trigger.rules, doc, now):
                    ids = sorted(o.id for o in orders.values() if o.customer_id == cid)
                    candidates.append(Candidate(journey, cid, f"orders:{ids[0]}"))
    moves.enter_all(candidates, new, now, known=states)
    moves.flush(new)
    deps.store.save_orders(order_docs)
    deps.store.save_customers(list(new.values()))


def _is_first(order_id: str, orders: list[Doc]) -> bool:
    """The customer's earliest order (by date, then id) is this one."""
    if not orders:
        return False
    first = min(orders, key=lambda o: (o.get("date") or datetime.min, o["_id"]))
    return bool(first["_id"] == order_id)


def _reach_goals(
    moves: Moves,
    journeys: dict[str, Journey],
    orders: list[Any],
    waiting: list[Doc],
    now: datetime,
) -> None:
    """An order marks the customer's ``waiting`` states "ordered since entry" and,
    where the journey's goal is an order, converts them, unless it is the order that
    entered them."""
    by_customer: dict[str, list[Any]] = {}
    for order in orders:
        by_customer.setdefault(order.customer_id, []).append(order)
    for state in waiting:
        if state.get("position") == "@trigger":
            continue
        others = [
            o
            for o in by_customer[state["customer_id"]]
            if state.get("trigger_ref") != f"order:{o.id}"
        ]
        if not others:
            continue
        journey = journeys.get(state["journey_id"])
        goal = journey.spec.goal if journey else None
        if goal is not None and any(
            goal.min_amount is None or o.amount >= goal.min_amount for o in others
        ):
            moves.put(state["_id"], state, convert(state, now, f"order:{others[0].id}"))
        elif not state.get("ordered"):
            doc = dict(state)
            doc.update(ordered=True, updated_ms=to_ms(now))
            moves.put(state["_id"], state, doc)
