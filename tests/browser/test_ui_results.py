"""The A/B editor in the composer and the results panel on the campaign page (bars per
variant and holdout with their intervals). Runs after test_ui.py on the same stack,
signed in as its admin (or as the stack's first sign-in when run alone)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from libs.common.testing.pytest_plugin import wait_until
from tests.browser.test_ui import DESKTOP, RUN, api

CUSTOMERS = 300


@pytest.fixture(scope="module")
def page(browser: Any, ui_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, base_url=ui_url)
    context.set_default_timeout(15_000)
    answer = context.request.post(
        "/auth/dev-login", data={"email": f"ui-{RUN}@example.com"}, headers={"Origin": ui_url}
    )
    assert answer.ok, answer.text()
    page = context.new_page()
    yield page
    context.close()


def test_composer_edits_variants_with_a_preview_each(page: Any) -> None:
    page.goto("/campaigns/new")
    page.get_by_label("A/B test: several variants and a holdout").check()
    page.get_by_label("Variant A message").fill("Hi {firstName}, A")
    page.get_by_label("Variant B message").fill("Hello {firstName}, B")
    page.get_by_test_id("variant-B-preview").wait_for()
    assert "B" in page.get_by_test_id("variant-B-preview").inner_text()
    page.get_by_role("button", name="Add variant").click()
    assert page.get_by_label("Variant C share (%)").input_value() == "33.34"
    page.get_by_label("Remove variant C").click()
    assert page.get_by_label("Holdout (% of the audience, never messaged)").input_value() == "10"


def test_results_panel_shows_bars_with_intervals_per_variant_and_holdout(page: Any) -> None:
    tag = f"abui{RUN}"
    customers = [
        {
            "id": f"{tag}-{i}",
            "name": f"Res{i} Ult",
            "email": f"{tag}.{i}@example.com",
            "totalSpends": 100,
            "visits": 1,
        }
        for i in range(CUSTOMERS)
    ]
    assert api(page, "POST", "/api/customers/batch", {"customers": customers})["status"] == 202
    rules = {
        "operator": "AND",
        "conditions": [{"field": "email", "operator": "contains", "value": f"{tag}."}],
    }
    wait_until(
        lambda: (
            api(page, "POST", "/api/customers/preview", {"rules": rules})["body"]["count"]
            == CUSTOMERS
        ),
        timeout=60,
        interval=0.5,
    )
    body = {
        "name": f"AB {RUN}",
        "segmentRules": rules,
        "variants": [
            {"id": "A", "message": "Hi {firstName}", "share": 50},
            {"id": "B", "message": "Hello {firstName}", "share": 50},
        ],
        "holdoutShare": 20,
    }
    created = api(page, "POST", "/api/campaigns", body)
    assert created["status"] == 201, created
    cid = created["body"]["id"]
    wait_until(
        lambda: api(page, "GET", f"/api/campaigns/{cid}")["body"]["status"] == "completed",
        timeout=120,
        interval=0.5,
    )
    rows = api(page, "GET", f"/api/campaigns/{cid}/communications?pageSize=500")["body"]["items"]
    buyers = [r for r in rows if r["status"] in ("delivered", "holdout")][::4]
    wait_until(
        lambda: (
            sum(
                v["delivered"]
                for v in api(page, "GET", f"/api/campaigns/{cid}/results")["body"]["variants"]
            )
            == sum(r["status"] == "delivered" for r in rows)
        ),
        timeout=60,
        interval=0.5,
    )
    orders = [
        {"id": f"{tag}-o{i}", "customerId": r["customerId"], "amount": 40}
        for i, r in enumerate(buyers)
    ]
    assert api(page, "POST", "/api/orders/batch", {"orders": orders})["status"] == 202
    page.goto(f"/campaigns/{cid}")
    panel = page.get_by_test_id("results-panel")
    panel.wait_for()
    wait_until(
        lambda: (
            sum(
                int(page.get_by_test_id(f"result-{g}").inner_text().split(" / ")[0].split()[-1])
                for g in ("A", "B", "holdout")
            )
            == len(buyers)
        ),
        timeout=60,
        interval=1,
    )
    for group in ("A", "B", "holdout"):
        interval = page.get_by_test_id(f"interval-{group}").inner_text()
        low, high = (float(x.rstrip("%")) for x in interval.split("–"))
        assert 0 <= low < high <= 100, interval
        assert page.get_by_test_id(f"whisker-{group}").bounding_box()["width"] > 0
    assert "interval" in page.get_by_test_id("lift").inner_text()
