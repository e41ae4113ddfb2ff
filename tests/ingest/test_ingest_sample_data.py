"""scripts/sample_data.py: deterministic, realistic, and valid for the ingest API."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from services.ingest.intake import KINDS, validate_items

pytestmark = pytest.mark.unit
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _module() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "scripts" / "sample_data.py"
    spec = importlib.util.spec_from_file_location("sample_data", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_same_seed_same_data_and_different_seed_different_data() -> None:
    sample = _module()
    assert sample.generate(200, 7, NOW) == sample.generate(200, 7, NOW)
    assert sample.generate(200, 8, NOW) != sample.generate(200, 7, NOW)


def test_every_generated_record_passes_api_validation() -> None:
    customers, orders = _module().generate(500, 3, NOW)
    valid_customers, rejected = validate_items(KINDS["customers"], customers)
    assert not rejected and len(valid_customers) == 500
    valid_orders, rejected_orders = validate_items(KINDS["orders"], orders)
    assert not rejected_orders and len(valid_orders) == len(orders) > 500
    known = {c["id"] for c in customers}
    assert all(o["customerId"] in known for o in orders)


def test_data_is_varied_like_real_customers() -> None:
    customers, _ = _module().generate(1000, 11, NOW)
    zones = {c["timezone"] for c in customers}
    assert "Asia/Kolkata" in zones and len(zones) >= 6
    assert len({c["name"] for c in customers}) > 500
    visits = sorted(datetime.fromisoformat(c["lastVisit"]) for c in customers)
    assert (NOW - visits[0]).days > 365 and (NOW - visits[-1]).days < 7
    assert any("vip" in c.get("tags", []) for c in customers)
    assert sum("phone" in c for c in customers) > 500
