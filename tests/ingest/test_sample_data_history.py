"""scripts/sample_data.py gives the dashboard 90 days of history: customers joining,
orders placed and finished campaigns spread over them, all valid for the APIs."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from services.campaign.history import HistoryImport, history_doc

pytestmark = pytest.mark.unit
NOW = datetime(2025, 6, 1, tzinfo=UTC)
START = NOW - timedelta(days=90)


def _module() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "scripts" / "sample_data.py"
    spec = importlib.util.spec_from_file_location("sample_data", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _weeks(values: list[datetime]) -> set[int]:
    return {(v - START).days // 7 for v in values if START <= v < NOW}


def test_customers_and_orders_spread_over_the_last_ninety_days() -> None:
    customers, orders = _module().generate(1000, 5, NOW)
    joined = [_at(c["createdAt"]) for c in customers]
    placed = [_at(o["date"]) for o in orders]
    recent_customers = [d for d in joined if d >= START]
    recent_orders = [d for d in placed if d >= START]
    assert 0.25 < len(recent_customers) / len(customers) < 0.45
    assert len(recent_orders) / len(orders) > 0.5
    assert _weeks(joined) == _weeks(placed) == set(range(13))  # every week has some
    assert max(placed) < NOW and max(joined) <= NOW
    assert min(joined) < START  # and older customers too


def test_campaign_history_is_finished_spread_and_importable() -> None:
    sample = _module()
    customers, orders = sample.generate(1000, 5, NOW)
    campaigns = sample.campaign_history(customers, orders, 5, NOW)
    assert campaigns == sample.campaign_history(customers, orders, 5, NOW)
    assert 20 <= len(campaigns) <= 60
    launched = [_at(c["launchedAt"]) for c in campaigns]
    assert all(START <= d < NOW for d in launched)
    assert max(launched) - min(launched) > timedelta(days=80)
    assert len({c["id"] for c in campaigns}) == len(campaigns)
    assert sum(c["attributedRevenue"] > 0 for c in campaigns) > len(campaigns) // 2
    body = HistoryImport.model_validate({"campaigns": campaigns})
    docs = [history_doc(c, "seed", NOW) for c in body.campaigns]
    assert all(d["status"] == "completed" and d["counts"]["cancelled"] == 0 for d in docs)


def test_history_ids_do_not_depend_on_the_day_so_a_later_run_adds_nothing() -> None:
    sample = _module()
    customers, orders = sample.generate(300, 42, NOW)
    later = NOW + timedelta(days=3)
    ids = [c["id"] for c in sample.campaign_history(customers, orders, 42, NOW)]
    again = [c["id"] for c in sample.campaign_history(customers, orders, 42, later)]
    assert again == ids
