"""Helpers shared by the ingest tests (imported as a plain module)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from libs.common.testing.pytest_plugin import wait_until


def wait_columns_current(client: TestClient) -> None:
    """Wait until the API's read model has applied every change notice."""
    model = client.app.state.preview  # type: ignore[attr-defined]

    def current() -> bool:
        return bool(client.portal.call(model.caught_up))  # type: ignore[union-attr]

    wait_until(current, timeout=30)


def customer(cid: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": cid,
        "name": f"Customer {cid}",
        "email": f"{cid}@example.com",
        "totalSpends": 100,
        "visits": 1,
        "lastVisit": "2024-01-15T10:30:00Z",
    }
    base.update(fields)
    return base


def order(oid: str, cid: str, amount: float, date: str = "2024-03-01T12:00:00Z") -> dict[str, Any]:
    return {"id": oid, "customerId": cid, "amount": amount, "items": ["Tea"], "date": date}
