"""The only journey module that touches MongoDB (database ``<prefix>campaign``).

Collections, all campaign-owned:
- ``journeys``: definitions and their status (draft, active, paused, archived);
- ``journey_states``: one document per journey and customer (``_id`` = ``jid:cid``):
  the entry number, where the customer is, when the wait there is due (``due_ms``,
  indexed with ``status``) and ``updated_ms``, the version every write is conditioned on;
- ``journey_customers`` / ``journey_orders``: the small projection of customers and
  orders the triggers, branches and templates need, fed by the ``ingest`` stream.
Times are epoch milliseconds (see services.campaign.clock).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import DESCENDING, MongoClient, ReplaceOne
from pymongo.collection import Collection
from pymongo.database import Database

from libs.common.mongo import IndexSpec, count_matching, ensure_indexes

Doc = dict[str, Any]

WAITING = "waiting"
EXITED = "exited"
COMPLETED = "completed"
CONVERTED = "converted"
FINISHED = (EXITED, COMPLETED, CONVERTED)
SCHEDULED = "@trigger"  # position of a date-attribute entry that has not begun yet

INDEXES = (
    IndexSpec("journeys", [("created_ms", DESCENDING)], name="created_desc"),
    IndexSpec("journey_states", [("status", 1), ("due_ms", 1)], name="status_due"),
    IndexSpec("journey_states", [("customer_id", 1)], name="customer"),
    IndexSpec("journey_states", [("journey_id", 1), ("status", 1)], name="journey_status"),
    IndexSpec("journey_orders", [("customer_id", 1)], name="customer"),
    # the dashboard's new customers per day (services.campaign.history_store)
    IndexSpec("journey_customers", [("created_at", 1)], name="created"),
)


def state_id(journey_id: str, customer_id: str) -> str:
    return f"{journey_id}:{customer_id}"


class JourneyStore:
    def __init__(self, client: MongoClient[Doc], database: str) -> None:
        self.db: Database[Doc] = client[database]
        self.journeys: Collection[Doc] = self.db["journeys"]
        self.states: Collection[Doc] = self.db["journey_states"]
        self.customers: Collection[Doc] = self.db["journey_customers"]
        self.orders: Collection[Doc] = self.db["journey_orders"]

    def ensure_indexes(self) -> None:
        ensure_indexes(self.db, INDEXES)

    # -- definitions ---------------------------------------------------------------
    def insert_journey(self, doc: Doc) -> None:
        self.journeys.insert_one(doc)

    def get_journey(self, journey_id: str) -> Doc | None:
        return self.journeys.find_one({"_id": journey_id})

    def list_journeys(self) -> list[Doc]:
        return list(self.journeys.find({}).sort([("created_ms", DESCENDING)]).limit(500))

    def active_journeys(self) -> list[Doc]:
        return list(self.journeys.find({"status": "active"}))

    def set_status(
        self, journey_id: str, allowed_from: Sequence[str], status: str, now_ms: int
    ) -> Doc | None:
        self.journeys.update_one(
            {"_id": journey_id, "status": {"$in": list(allowed_from)}},
            {"$set": {"status": status, "updated_ms": now_ms}},
        )
        return self.get_journey(journey_id)

    # -- states --------------------------------------------------------------------
    def states_of(self, ids: Iterable[str]) -> dict[str, Doc]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        return {d["_id"]: d for d in self.states.find({"_id": {"$in": wanted}})}

    def states_of_customer(self, customer_id: str) -> list[Doc]:
        return list(self.states.find({"customer_id": customer_id}))

    def states_of_customers(self, customer_ids: Sequence[str]) -> list[Doc]:
        """Every journey's state of these customers."""
        if not customer_ids:
            return []
        return list(self.states.find({"customer_id": {"$in": list(customer_ids)}}))

    def write_states(self, docs: Sequence[Doc], expected: dict[str, int | None]) -> None:
        """Write states whole, each only if nobody moved it since it was read
        (``updated_ms`` as read; None: it did not exist)."""
        if not docs:
            return
        ops = []
        for doc in docs:
            before = expected.get(doc["_id"])
            if before is None:
                ops.append(ReplaceOne({"_id": doc["_id"]}, doc, upsert=True))
            else:
                ops.append(ReplaceOne({"_id": doc["_id"], "updated_ms": before}, doc))
        self.states.bulk_write(ops, ordered=False)

    def due_states(self, now_ms: int, limit: int, excluding: Iterable[str] = ()) -> list[Doc]:
        """Up to ``limit`` waiting states whose wait is over, the longest due first (one
        read on the ``status_due`` index), leaving out the ids ``excluding`` (states
        whose write is under way). ``lease_ms`` is the time before which a state is not
        looked at again (a paused journey's customers)."""
        due: Doc = {"status": WAITING, "due_ms": {"$lte": now_ms}, "lease_ms": {"$lt": now_ms}}
        if left_out := list(excluding):
            due["_id"] = {"$nin": left_out}
        return list(self.states.find(due).sort([("due_ms", 1)]).limit(limit))

    def mark_ordered(self, customer_ids: Sequence[str], now_ms: int) -> None:
        if customer_ids:
            self.states.update_many(
                {"customer_id": {"$in": list(customer_ids)}, "status": WAITING},
                {"$set": {"ordered": True, "updated_ms": now_ms}},
            )

    def record_outcomes(self, by_step: dict[tuple[str, str], list[str]], field: str) -> None:
        """Add the step to the ``field`` set (``failed``) of each (journey, step)'s
        states, given as state ids: idempotent under redelivery."""
        for (_, step), ids in by_step.items():
            self.states.update_many({"_id": {"$in": ids}}, {"$addToSet": {field: step}})

    def count_states(self, query: Doc) -> int:
        return count_matching(self.states, query)

    def states_of_journey(self, journey_id: str, fields: Doc) -> list[Doc]:
        return list(self.states.find({"journey_id": journey_id}, fields))

    # -- projection ----------------------------------------------------------------
    def customers_of(self, ids: Iterable[str]) -> dict[str, Doc]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        return {d["_id"]: d for d in self.customers.find({"_id": {"$in": wanted}})}

    def all_customers(self, batch: int = 2000) -> Iterable[Doc]:
        return self.customers.find({}).batch_size(batch)

    def save_customers(self, docs: Sequence[Doc]) -> None:
        if docs:
            self.customers.bulk_write(
                [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs], ordered=False
            )

    def save_orders(self, docs: Sequence[Doc]) -> None:
        if docs:
            self.orders.bulk_write(
                [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs], ordered=False
            )

    def orders_of(self, customer_ids: Sequence[str]) -> list[Doc]:
        if not customer_ids:
            return []
        return list(self.orders.find({"customer_id": {"$in": list(customer_ids)}}))
