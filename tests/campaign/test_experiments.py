"""Variants, holdout, attribution, results and the winner decision in the campaign
service (API in-process, worker in burst runs, real Redis and database)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from campaign_helpers import drain, entries_of, rules_over
from fastapi.testclient import TestClient

from libs.common.assignment import HOLDOUT
from libs.common.events import (
    AudienceResolved,
    MessagesHeldOut,
    MessagesSent,
    OrderRecord,
    OrdersRecorded,
    Receipt,
    ReceiptsReceived,
    SentMessage,
    message_id,
)
from libs.common.testing.pytest_plugin import CleanEnv
from services.campaign import experiments
from services.campaign.worker import Worker

pytestmark = pytest.mark.integration

Publish = Callable[..., list[str]]
VARIANTS = [
    {"id": "A", "message": "Hi {name}, 10% off", "share": 50},
    {"id": "B", "message": "Hi {firstName} in {city}, 20% off", "share": 50},
]


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "ab",
        "segmentRules": rules_over(100),
        "variants": VARIANTS,
        "holdoutShare": 10,
        **overrides,
    }


def create(api: TestClient, **overrides: Any) -> dict[str, Any]:
    response = api.post("/api/campaigns", json=body(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"variants": VARIANTS[:1]}, "2 to 5 variants"),
        ({"variants": [{**VARIANTS[0], "id": f"v{i}", "share": 100 / 6} for i in range(6)]}, ""),
        ({"variants": [VARIANTS[0], {**VARIANTS[1], "share": 40}]}, "add up to 90%"),
        ({"variants": [VARIANTS[0], {**VARIANTS[1], "id": "A"}]}, "unique"),
        ({"variants": [VARIANTS[0], {**VARIANTS[1], "id": "holdout"}]}, "not 'holdout'"),
        ({"variants": [VARIANTS[0], {**VARIANTS[1], "message": "Hi {nickname}"}]}, "nickname"),
        ({"variants": None, "message": "Hi"}, "holdoutShare needs variants"),
        ({"holdoutShare": 60}, "holdoutShare"),
        (
            {
                "variants": None,
                "holdoutShare": None,
                "message": "Hi",
                "winner": {"metric": "deliveryRate", "testShare": 20, "afterSeconds": 60},
            },
            "winner needs",
        ),
        ({"winner": {"metric": "opens", "testShare": 20, "afterSeconds": 60}}, "metric"),
        ({"winner": {"metric": "deliveryRate", "testShare": 100, "afterSeconds": 60}}, "testShare"),
        ({"attributionDays": 0}, "attributionDays"),
        ({"variants": None, "holdoutShare": None}, "message is required"),
    ],
)
def test_bad_experiment_is_a_422_with_a_reason(
    api: TestClient, overrides: dict[str, Any], needle: str
) -> None:
    response = api.post("/api/campaigns", json=body(**overrides))
    assert response.status_code == 422, response.text
    assert needle in response.text


def test_create_stores_the_split_and_launch_carries_it(
    api: TestClient, clean_env: CleanEnv
) -> None:
    winner = {"metric": "conversionRate", "testShare": 20, "afterSeconds": 60}
    doc = create(api, winner=winner, attributionDays=3)
    assert doc["message"] == VARIANTS[0]["message"]  # the control's
    assert doc["attributionDays"] == 3
    assert doc["experiment"] == {
        "variants": VARIANTS,
        "holdoutShare": 10.0,
        "winner": {**winner, "testShare": 20.0, "confidence": 0.95},
    }
    (launched,) = entries_of(clean_env.redis, "segment", "campaign.launched.v1")
    assert launched.fields == ["name", "firstName", "city"]  # type: ignore[attr-defined]
    setup = launched.experiment  # type: ignore[attr-defined]
    assert [(v.id, v.share_bp) for v in setup.variants] == [("A", 5000), ("B", 5000)]
    assert (setup.holdout_bp, setup.test_bp, setup.send) == (1000, 2000, None)


def test_a_campaign_without_variants_has_no_experiment(api: TestClient) -> None:
    response = api.post(
        "/api/campaigns", json={"name": "x", "segmentRules": rules_over(1), "message": "Hi"}
    )
    assert response.status_code == 201
    assert "experiment" not in response.json()
    assert response.json()["attributionDays"] == 7


# -- the worker: touches, conversions, results ---------------------------------------------
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def sent(cid: str, customers: list[str], at: datetime = T0) -> MessagesSent:
    return MessagesSent(
        messages=[
            SentMessage(
                message_id=message_id(cid, c),
                campaign_id=cid,
                customer_id=c,
                vendor_message_id=f"v-{c}",
                at=at,
            )
            for c in customers
        ]
    )


def delivered(cid: str, customers: list[str], at: datetime = T0) -> ReceiptsReceived:
    return ReceiptsReceived(
        receipts=[
            Receipt(
                message_id=message_id(cid, c),
                campaign_id=cid,
                customer_id=c,
                vendor_message_id=f"v-{c}",
                status="DELIVERED",
                at=at,
            )
            for c in customers
        ]
    )


def orders(*rows: tuple[str, str, float, datetime]) -> OrdersRecorded:
    return OrdersRecorded(
        orders=[OrderRecord(id=i, customer_id=c, amount=a, date=d) for i, c, a, d in rows]
    )


def groups_of(cid: str, customers: list[str]) -> dict[str, list[str]]:
    setup = experiments.to_event(
        {"variants": [{**v, "share_bp": 5000} for v in VARIANTS], "holdout_bp": 1000}
    )
    found: dict[str, list[str]] = {}
    for c in customers:
        found.setdefault(setup.assign(cid, c).group, []).append(c)
    return found


def results(api: TestClient, cid: str) -> dict[str, Any]:
    response = api.get(f"/api/campaigns/{cid}/results")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_orders_after_delivery_are_conversions_of_the_variant_and_holdout(
    api: TestClient, worker: Worker, publish: Publish, clean_env: CleanEnv
) -> None:
    cid = create(api)["id"]
    customers = [f"c{i:03d}" for i in range(300)]
    groups = groups_of(cid, customers)
    assert set(groups) == {"A", "B", HOLDOUT}
    messaged = groups["A"] + groups["B"]
    publish(AudienceResolved(campaign_id=cid, total=300, resolved_at=T0))
    publish(sent(cid, messaged), delivered(cid, messaged[:-5]))  # 5 never delivered
    publish(MessagesHeldOut(campaign_id=cid, customer_ids=groups[HOLDOUT], at=T0))
    drain(worker)
    day = timedelta(days=1)
    buyers_a, buyers_b, buyers_h = groups["A"][:10], groups["B"][:20], groups[HOLDOUT][:2]
    rows = [(f"o-{c}", c, 100.0, T0 + day) for c in buyers_a + buyers_b + buyers_h]
    rows.append(("o-late", groups["A"][-1], 999.0, T0 + 8 * day))  # past the 7-day window
    rows.append(("o-early", groups["A"][-2], 999.0, T0 - day))  # before the message
    rows.append(("o-undelivered", messaged[-1], 999.0, T0 + day))  # never delivered
    rows.append(("o-second", buyers_b[0], 50.0, T0 + 2 * day))  # a second order
    publish(orders(*rows))
    publish(orders(*rows[:5]))  # a redelivered order counts once
    drain(worker)
    figures = results(api, cid)
    by_id = {v["id"]: v for v in figures["variants"]}
    undelivered_b = sum(c in groups["B"] for c in messaged[-5:])
    assert by_id["A"]["recipients"] == len(groups["A"])
    assert by_id["B"]["delivered"] == len(groups["B"]) - undelivered_b
    assert (by_id["A"]["conversions"], by_id["A"]["revenue"]) == (10, 1000.0)
    assert (by_id["B"]["conversions"], by_id["B"]["revenue"]) == (20, 2050.0)
    assert by_id["B"]["conversionRate"] == pytest.approx(20 / len(groups["B"]))
    assert by_id["B"]["low"] < by_id["B"]["conversionRate"] < by_id["B"]["high"]
    holdout = figures["holdout"]
    assert (holdout["recipients"], holdout["conversions"]) == (len(groups[HOLDOUT]), 2)
    lift = figures["lift"]
    treated = 30 / len(messaged)
    assert lift["absolute"] == pytest.approx(treated - 2 / len(groups[HOLDOUT]))
    assert lift["low"] < lift["absolute"] < lift["high"]
    assert lift["significant"] == (lift["low"] > 0 or lift["high"] < 0)
    assert figures["revenueLift"]["absolute"] > 0
    holdout_rate = 2 / len(groups[HOLDOUT])
    assert by_id["B"]["lift"]["absolute"] == pytest.approx(20 / len(groups["B"]) - holdout_rate)
    assert by_id["A"]["lift"]["absolute"] == pytest.approx(10 / len(groups["A"]) - holdout_rate)
    assert "winner" not in figures
    # the holdout is final at once: every customer is accounted for
    assert api.get(f"/api/campaigns/{cid}").json()["pending"] == 5


def test_last_touch_wins_between_two_campaigns(
    api: TestClient, worker: Worker, publish: Publish
) -> None:
    first = create(api, holdoutShare=0)["id"]
    second = api.post(
        "/api/campaigns", json={"name": "p", "segmentRules": rules_over(1), "message": "Hi"}
    ).json()["id"]
    publish(sent(first, ["x", "y"]), delivered(first, ["x", "y"], T0))
    publish(sent(second, ["x"], T0), delivered(second, ["x"], T0 + timedelta(hours=5)))
    drain(worker)
    publish(orders(("o1", "x", 40.0, T0 + timedelta(hours=6)), ("o2", "y", 60.0, T0)))
    drain(worker)
    one, two = results(api, first), results(api, second)
    assert sum(v["revenue"] for v in one["variants"]) == 60.0  # y: first's only touch
    assert two["variants"][0]["id"] == "A"
    assert (two["variants"][0]["conversions"], two["variants"][0]["revenue"]) == (1, 40.0)
    assert one["holdout"] is None and one["lift"] is None


def test_an_order_read_before_its_receipt_is_attributed_when_the_receipt_arrives(
    api: TestClient, worker: Worker, publish: Publish
) -> None:
    first = create(api, holdoutShare=0)["id"]
    second = api.post(
        "/api/campaigns", json={"name": "q", "segmentRules": rules_over(1), "message": "Hi"}
    ).json()["id"]
    hour = timedelta(hours=1)
    publish(sent(first, ["x"]), sent(second, ["x"]))
    # the order is read first: no touch yet, nothing to attribute
    publish(orders(("o-race", "x", 25.0, T0 + 3 * hour)))
    drain(worker)
    assert sum(v["conversions"] for v in results(api, first)["variants"]) == 0
    publish(delivered(first, ["x"], T0))  # the receipt arrives: first's conversion now
    drain(worker)
    assert sum(v["revenue"] for v in results(api, first)["variants"]) == 25.0
    # a later-read receipt of a later message is the order's last touch: it moves there
    publish(delivered(second, ["x"], T0 + 2 * hour))
    drain(worker)
    assert sum(v["conversions"] for v in results(api, first)["variants"]) == 0
    assert results(api, second)["variants"][0]["revenue"] == 25.0
    # redelivered, and a message delivered after the order: nothing changes
    publish(orders(("o-race", "x", 99.0, T0)), delivered(first, ["x"], T0 + 5 * hour))
    drain(worker)
    assert results(api, second)["variants"][0]["revenue"] == 25.0
    assert sum(v["conversions"] for v in results(api, first)["variants"]) == 0


def test_results_of_an_unknown_campaign_is_404(api: TestClient) -> None:
    assert api.get("/api/campaigns/cmp_nope/results").status_code == 404
