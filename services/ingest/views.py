"""Customer documents as API JSON (camelCase, ISO dates), and CSV rows as API items."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from libs.common.rules import FIELDS
from services.ingest.consent import consent_view

_CUSTOMER_FIELDS = (
    ("name", "name"),
    ("email", "email"),
    ("phone", "phone"),
    ("total_spends", "totalSpends"),
    ("visits", "visits"),
    ("last_visit", "lastVisit"),
    ("created_at", "createdAt"),
    ("tags", "tags"),
    ("city", "city"),
    ("timezone", "timezone"),
    ("attributes", "attributes"),
    ("order_count", "orderCount"),
    ("last_order_at", "lastOrderAt"),
    ("placeholder", "placeholder"),
)


def iso(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def customer_out(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": doc["_id"]}
    for path, name in _CUSTOMER_FIELDS:
        if path in doc:
            out[name] = iso(doc[path])
    out.setdefault("totalSpends", 0)
    out.setdefault("orderCount", 0)
    out["consent"] = consent_view(doc, iso)
    return out


def order_out(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "customerId": doc["customer_id"],
        "amount": doc["amount"],
        "items": doc.get("items", []),
        "date": iso(doc.get("date")),
    }


def preview_row(doc: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """One preview sample: id, name, email and the fields the rules use."""
    out: dict[str, Any] = {"id": doc["_id"]}
    for name in ("name", "email", *fields):
        value = doc.get(FIELDS[name].path)
        out[name] = iso(value) if value != [] else None
    return out


def csv_item(row: dict[str | None, Any]) -> dict[str, Any]:
    """A CSV row as an API item: blanks dropped, tags/items split on ';' or '|'."""
    item: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:  # more cells than headers
            item["(extra cells)"] = value
            continue
        key = key.strip()
        if isinstance(value, str):
            value = value.strip()
        if value in ("", None):
            continue
        if key in ("tags", "items"):
            value = [v.strip() for v in value.replace("|", ";").split(";") if v.strip()]
        if key == "attributes" and isinstance(value, str) and value.startswith("{"):
            # invalid JSON stays text, and validation reports it
            with contextlib.suppress(orjson.JSONDecodeError):
                value = orjson.loads(value)
        if key in ("consentEmail", "consentSms"):
            channel = "email" if key == "consentEmail" else "sms"
            item.setdefault("consent", {})[channel] = str(value).lower()
            continue
        item[key] = value
    return item
