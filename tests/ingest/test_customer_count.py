"""One customer count: it never goes down without a deletion, and the read model hears
of each write slice as soon as it is in the database (the fault suite's 50,000, then
39,000: docs/architecture.md, "One customer count")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ingest_helpers import customer, wait_columns_current

from libs.common.events import CustomersUpserted, decode
from libs.common.testing.pytest_plugin import CleanEnv
from services.ingest.audience.changes import CHANGES_STREAM, notify_changed, parse_docs
from services.ingest.handlers import Deps, upsert_customers
from services.ingest.store import WRITE_SLICE, CustomerStore

pytestmark = pytest.mark.integration


def customers_count(api: TestClient) -> int:
    return int(api.get("/api/customers/stats").json()["customers"])


def test_the_count_never_goes_down_while_the_database_is_ahead_of_the_notices(
    make_api: Callable[..., TestClient], clean_env: CleanEnv
) -> None:
    api = make_api()
    wait_columns_current(api)
    # A worker wrote 500 customers; its change notice is not out yet (it is still
    # writing the rest of its run, or it was killed and its entry awaits redelivery).
    store = CustomerStore(clean_env.db("ingest"))
    posted = [customer(f"c{i:03d}") for i in range(500)]
    api.post("/api/customers/batch", json={"customers": posted})
    [(entry_id, fields)] = clean_env.redis.xrange("ingest")
    event = decode(entry_id.decode(), fields)
    assert isinstance(event, CustomersUpserted)
    written = store.upsert_customers(event.customers)
    # An API process too busy to read its notices within the count's wait: here, a
    # notice it cannot apply yet holds its read position.
    stuck = clean_env.redis.xadd(CHANGES_STREAM, {"docs": b"not json yet"})
    counts = [customers_count(api)]
    clean_env.redis.xdel(CHANGES_STREAM, stuck)  # the process catches up
    wait_columns_current(api)
    counts.append(customers_count(api))
    notify_changed(clean_env.redis, written, 400, WRITE_SLICE)  # the notice arrives
    wait_columns_current(api)
    counts.append(customers_count(api))
    assert counts == sorted(counts), f"the count went down: {counts}"
    assert counts[-1] == 500 == store.count_listed()


class DiesOnSecondSlice(CustomerStore):
    """The worker process dies while writing the second slice of its run."""

    slices = 0

    def _write_once(self, ids: Any, records: Any) -> Any:
        self.slices += 1
        if self.slices == 2:
            raise SystemExit("killed")
        return super()._write_once(ids, records)


def test_a_slice_written_is_announced_before_the_rest_of_its_run(
    api: TestClient, deps: Deps, clean_env: CleanEnv
) -> None:
    records = [customer(f"k{i:05d}") for i in range(WRITE_SLICE + 500)]
    for start in range(0, len(records), 1000):
        api.post("/api/customers/batch", json={"customers": records[start : start + 1000]})
    events = [decode(i.decode(), f) for i, f in clean_env.redis.xrange("ingest")]
    deps.store = DiesOnSecondSlice(clean_env.db("ingest"))
    with pytest.raises(SystemExit):
        upsert_customers(events, deps)  # type: ignore[arg-type]
    announced = [d["_id"] for _, f in clean_env.redis.xrange(CHANGES_STREAM) for d in parse_docs(f)]
    in_database = [d["_id"] for d in clean_env.db("ingest").customers.find({}, {"_id": 1})]
    assert len(in_database) == WRITE_SLICE
    assert sorted(announced) == sorted(in_database)
