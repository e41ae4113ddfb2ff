"""CSV import: rows validated like the API, queued through the same stream, with a
job id and progress counted by the worker exactly once per entry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from libs.common.events import CustomersUpserted, decode
from libs.common.testing.pytest_plugin import CleanEnv
from services.ingest.handlers import Deps, upsert_customers

pytestmark = pytest.mark.integration

CUSTOMERS_CSV = """id,name,email,phone,totalSpends,visits,lastVisit,city,tags
c1,Asha Rao,asha@example.com,+91 98765 43210,12000,5,2024-01-15T10:30:00Z,Pune,vip;new
c2,Bob Stone,bob@example.com,,300,1,2024-02-01,London,
c3,Bad Email,not-an-email,,10,1,2024-02-01,,
c4,Chen Li,chen@example.com,,-5,1,2024-02-01,,
c5,Dana Lee,dana@example.com,,50,2,,Austin,a|b
"""


def upload(api: TestClient, text: str, kind: str = "customers") -> dict:
    files = {"file": ("people.csv", text.encode(), "text/csv")}
    response = api.post("/api/customers/import", files=files, data={"kind": kind})
    assert response.status_code == 202, response.text
    return response.json()


def test_csv_import_queues_valid_rows_reports_bad_ones_and_completes(
    make_api: Callable[..., TestClient], drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    api = make_api(columns_enabled=False, chunk_size=2)
    import_id = upload(api, CUSTOMERS_CSV)["importId"]
    job = api.get(f"/api/imports/{import_id}").json()
    assert job["status"] == "processing" and job["processed"] == 0
    assert (job["totalRows"], job["accepted"], job["rejected"]) == (5, 3, 2)
    assert [e["row"] for e in job["errors"]] == [4, 5]
    assert "email" in job["errors"][0]["message"]
    drain("ingest")
    job = api.get(f"/api/imports/{import_id}").json()
    assert job["status"] == "completed" and job["processed"] == 3
    asha = api.get("/api/customers/c1").json()
    assert asha["tags"] == ["vip", "new"] and asha["totalSpends"] == 12000
    assert api.get("/api/customers/c5").json()["tags"] == ["a", "b"]


def test_import_progress_counts_a_redelivered_entry_once(
    make_api: Callable[..., TestClient], deps: Deps, clean_env: CleanEnv
) -> None:
    api = make_api(columns_enabled=False, chunk_size=2)
    import_id = upload(api, CUSTOMERS_CSV)["importId"]
    events = [decode(i.decode(), f) for i, f in clean_env.redis.xrange("ingest")]
    assert all(isinstance(e, CustomersUpserted) and e.import_id == import_id for e in events)
    upsert_customers(events[:1], deps)  # type: ignore[arg-type]
    upsert_customers(events[:1], deps)  # type: ignore[arg-type]
    job = api.get(f"/api/imports/{import_id}").json()
    assert job["processed"] == 2 and job["status"] == "processing"
    upsert_customers(events, deps)  # type: ignore[arg-type]
    job = api.get(f"/api/imports/{import_id}").json()
    assert job["processed"] == 3 and job["status"] == "completed"


def test_orders_csv_import_updates_aggregates(api: TestClient, drain: Callable[[str], int]) -> None:
    upload(api, CUSTOMERS_CSV)
    orders = "id,customerId,amount,items,date\no1,c2,99.5,Tea|Cake,2024-03-01\no2,c2,0.5,,\n"
    import_id = upload(api, orders, kind="orders")["importId"]
    drain("ingest")
    assert api.get(f"/api/imports/{import_id}").json()["status"] == "completed"
    bob = api.get("/api/customers/c2").json()
    assert bob["totalSpends"] == 400 and bob["orderCount"] == 2


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"name,email\nx,y@z.io\n", "customers"),
        (b"\xff\xfe\x00garbage", "customers"),
        (b"id,name\n1,x\n", "products"),
    ],
)
def test_unusable_uploads_are_refused(api: TestClient, content: bytes, kind: str) -> None:
    files = {"file": ("x.csv", content, "text/csv")}
    response = api.post("/api/customers/import", files=files, data={"kind": kind})
    assert response.status_code == 422


def test_oversized_upload_is_refused(make_api: Callable[..., TestClient]) -> None:
    api = make_api(columns_enabled=False, import_max_bytes=100)
    files = {"file": ("x.csv", b"id,name\n" + b"c,n\n" * 100, "text/csv")}
    assert api.post("/api/customers/import", files=files).status_code == 413


def test_unknown_import_is_404(api: TestClient) -> None:
    assert api.get("/api/imports/nope").status_code == 404


def test_retried_upload_with_the_same_idempotency_key_starts_one_import(
    api: TestClient, clean_env: CleanEnv
) -> None:
    files = {"file": ("people.csv", CUSTOMERS_CSV.encode(), "text/csv")}
    headers = {"Idempotency-Key": "upload-1"}
    first = api.post("/api/customers/import", files=files, headers=headers)
    second = api.post("/api/customers/import", files=files, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert clean_env.redis.xlen("ingest") == 1
