"""Change notices carry the written documents: the read model applies them without
reading the database, in version order whatever order they arrive in, and ends equal to
a fresh load."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from ingest_helpers import customer, order, wait_columns_current

from libs.common.events import decode
from libs.common.testing.pytest_plugin import CleanEnv
from services.ingest.audience.changes import CHANGES_STREAM, notify_changed, parse_docs, project
from services.ingest.audience.columns import PROJECTION, Columns, _date_ms
from services.ingest.handlers import Deps, upsert_customers
from services.ingest.store import CustomerStore

pytestmark = pytest.mark.integration


def snapshot(columns: Columns) -> dict[str, tuple[Any, ...]]:
    """Every row by id: the rule fields, the flags and the version."""
    fields = ["totalSpends", "visits", "orderCount", "lastVisit", "lastOrderAt", "createdAt"]
    fields += ["phone", "city", "timezone", "tags"]
    return {
        columns.ids[r]: (
            tuple(sorted(columns.row_view(r, fields).items(), key=str)),
            bool(columns.contactable.data[r]),
            bool(columns.listed.data[r]),
            int(columns.versions.data[r]),
        )
        for r in range(columns.n)
    }


def test_dates_come_back_from_a_notice_as_the_database_gives_them(clean_env: CleanEnv) -> None:
    dates = [datetime(2024, 5, 1, 10, 0, 0, 999_999, tzinfo=UTC), datetime(1901, 3, 4, 0, 0, 1, 1)]
    db = clean_env.db("ingest").customers
    for i, when in enumerate(dates):
        db.insert_one({"_id": f"d{i}", "created_at": when, "last_visit": "2024-01-01"})
        from_db = db.find_one({"_id": f"d{i}"}, PROJECTION)
        [from_notice] = parse_docs({b"docs": orjson.dumps([project(from_db)])})
        assert _date_ms(from_notice["created_at"]) == _date_ms(from_db["created_at"])
        assert from_notice["last_visit"] == "2024-01-01"  # a legacy string stays a string


def test_an_older_notice_arriving_late_changes_nothing() -> None:
    columns = Columns()
    columns.upsert([{"_id": "c1", "name": "loaded", "version": 3}])
    assert columns.apply([{"_id": "c1", "name": "v5", "version": 5}]) == 1
    # the notice of write 4 comes after the one of write 5 (two workers)
    assert columns.apply([{"_id": "c1", "name": "v4", "version": 4}]) == 0
    assert columns.apply([{"_id": "c1", "name": "v5 again", "version": 5}]) == 0
    # within one read too, the newest wins whatever its place
    columns.apply([{"_id": "c2", "version": 2, "name": "b"}, {"_id": "c2", "version": 1}])
    assert columns.texts["name"].value(0) == "v5"
    assert columns.texts["name"].value(1) == "b"
    assert list(columns.versions.data[:2]) == [5, 2]


def test_the_model_follows_out_of_order_notices_by_version(
    make_api: Callable[..., TestClient], clean_env: CleanEnv
) -> None:
    api = make_api()
    wait_columns_current(api)
    newer = {"_id": "c1", "name": "Second", "version": 2, "email": "b@x.io"}
    older = {"_id": "c1", "name": "First", "version": 1, "email": "a@x.io"}
    notify_changed(clean_env.redis, [newer], 400, 2000)
    notify_changed(clean_env.redis, [older], 400, 2000)
    wait_columns_current(api)
    columns = api.app.state.preview.columns  # type: ignore[attr-defined]
    row = columns.ids.find("c1")
    assert columns.texts["name"].value(row) == "Second" and columns.versions.data[row] == 2


def test_versions_count_writes_and_a_legacy_version_counts_as_none(
    api: TestClient, drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    customers = clean_env.db("ingest").customers
    api.post("/api/customers", json=customer("c1"))
    drain("ingest")
    assert customers.find_one({"_id": "c1"})["version"] == 1
    api.post("/api/orders", json=order("o1", "c1", 5))
    drain("ingest")
    assert customers.find_one({"_id": "c1"})["version"] == 2
    customers.update_one({"_id": "c1"}, {"$set": {"version": "9f1c0e"}})  # before ints
    api.post("/api/customers", json=customer("c1", visits=7))
    drain("ingest")
    assert customers.find_one({"_id": "c1"})["version"] == 1


def test_a_redelivered_batch_announces_the_current_documents_again(
    api: TestClient, deps: Deps, clean_env: CleanEnv
) -> None:
    api.post("/api/customers/batch", json={"customers": [customer("a"), customer("b")]})
    [entry] = [decode(i.decode(), f) for i, f in clean_env.redis.xrange("ingest")]
    deps.store.upsert_customers(entry.customers)  # written, then the worker died
    upsert_customers([entry], deps)  # the redelivery finds nothing to write
    [(_, fields)] = clean_env.redis.xrange(CHANGES_STREAM)
    stored = clean_env.db("ingest").customers.find({}, PROJECTION).sort("_id", 1)
    assert parse_docs(fields) == [project(d) | _dates(d) for d in stored]


def _dates(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if isinstance(v, datetime)}


def test_notices_are_sliced_so_no_entry_carries_more_than_a_write_slice(
    clean_env: CleanEnv,
) -> None:
    docs = [{"_id": f"c{i}", "version": 1} for i in range(5)]
    notify_changed(clean_env.redis, docs, 400, 2)
    sizes = [len(parse_docs(f)) for _, f in clean_env.redis.xrange(CHANGES_STREAM)]
    assert sizes == [2, 2, 1]


def test_the_model_equals_a_fresh_load_after_a_mixed_workload(
    make_api: Callable[..., TestClient], drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    api = make_api()
    wait_columns_current(api)
    people = [customer(f"c{i:02d}", city="Pune", tags=["vip"]) for i in range(30)]
    api.post("/api/customers/batch", json={"customers": people})
    api.post("/api/orders/batch", json={"orders": [order("o1", "c01", 5), order("o2", "p1", 9)]})
    drain("ingest")
    changed = [customer("c01", visits=9), customer("p1", phone="+91 98765 43210")]
    changed[1].pop("lastVisit")
    api.post("/api/customers/batch", json={"customers": changed})  # placeholder replaced
    api.post("/api/orders/batch", json={"orders": [order("o3", "p2", 1), order("o4", "c02", 2)]})
    api.post("/api/customers", json=customer("c03", tags=[], city="Delhi"))
    drain("ingest")
    wait_columns_current(api)
    fresh = Columns()
    fresh.upsert(CustomerStore(clean_env.db("ingest")).customers.find({}, PROJECTION))
    model = api.app.state.preview.columns  # type: ignore[attr-defined]
    assert snapshot(model) == snapshot(fresh)
    assert model.n == 32 and int(np.count_nonzero(model.listed.data[: model.n])) == 31
