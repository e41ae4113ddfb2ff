"""A journey built in the editor and activated from its page, in a real browser.

On the browser tests' shared stack, signed in as test_ui's person (the stack's first
sign-in is its admin, so this module never takes that role from test_ui)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_ui import DESKTOP, RUN, api, shot


@pytest.fixture
def page(browser: Any, ui_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, base_url=ui_url)
    context.set_default_timeout(15_000)
    answer = context.request.post(
        "/auth/dev-login", data={"email": f"ui-{RUN}@example.com"}, headers={"Origin": ui_url}
    )
    assert answer.ok, answer.text()
    yield context.new_page()
    context.close()


def test_a_journey_is_built_in_the_editor_and_activated(page: Any, screenshot_dir: Path) -> None:
    page.goto("/journeys")
    page.get_by_role("heading", name="Journeys").wait_for()
    page.get_by_role("link", name="New journey").click()
    page.get_by_label("Name").fill(f"First order {RUN}")
    page.get_by_label("When").select_option("order_placed")
    add = page.get_by_role("group", name="Add a step to Journey steps")
    add.get_by_role("button", name="+ wait").click()
    page.get_by_label("Wait (seconds)").fill("5")
    add.get_by_role("button", name="+ branch").click()
    page.get_by_role("group", name="Add a step to s2: else").get_by_role(
        "button", name="+ send"
    ).click()
    page.get_by_label("Message").fill("10% off, {firstName}")
    page.get_by_role("group", name="Add a step to s2: then").get_by_role(
        "button", name="+ exit"
    ).click()
    shot(page, screenshot_dir, "30-journey-editor")
    page.get_by_role("button", name="Save draft").click()

    page.get_by_role("heading", name=f"First order {RUN}").wait_for()
    assert page.get_by_test_id("journey-status").inner_text().strip().lower() == "draft"
    page.get_by_test_id("count-s1").wait_for()  # live counts per step
    page.get_by_role("button", name="Activate").click()
    page.get_by_role("button", name="Pause").wait_for()
    assert page.get_by_test_id("journey-status").inner_text().strip().lower() == "active"
    shot(page, screenshot_dir, "31-journey-active")

    journey_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    stored = api(page, "GET", f"/api/journeys/{journey_id}")["body"]
    assert stored["status"] == "active"
    assert stored["trigger"] == {"type": "order_placed", "firstOrder": True}
    wait, branch = stored["steps"]
    assert wait == {"id": "s1", "type": "wait", "seconds": 5}
    assert branch["orderedSinceEntry"] is True
    assert [s["type"] for s in branch["then"]] == ["exit"]
    assert branch["else"][0]["message"] == "10% off, {firstName}"
    # the shared stack's other tests place orders: leave nothing running
    assert api(page, "POST", f"/api/journeys/{journey_id}/archive")["status"] == 200
