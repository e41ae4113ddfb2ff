"""Issue 27, items 7–11: what a marketer tripped over, each reproduced in a real browser.

One stack of their own (tests/browser/marketer_setup.py) shared with the accessibility
tests; each test opens the page it needs, so each stands alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.marketer_setup import Seeded, seed, signed_in_context

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def seeded(marketer_stack: Any) -> Seeded:
    return seed(marketer_stack.url)


@pytest.fixture(scope="module")
def desktop(browser: Any, marketer_stack: Any, seeded: Seeded) -> Iterator[Any]:
    context = signed_in_context(browser, marketer_stack.url, DESKTOP)
    yield context.new_page()
    context.close()


def stat(page: Any, name: str) -> str:
    return str(page.get_by_test_id(f"stat-{name}").inner_text()).strip()


def settled(page: Any) -> None:
    page.wait_for_function(
        "() => ![...document.querySelectorAll('[role=status]')]"
        ".some((e) => e.textContent.includes('Loading'))"
    )


# -- 11: the sign-in page --------------------------------------------------------------
def test_sign_in_page_shows_no_setting_names(browser: Any, marketer_stack: Any) -> None:
    context = browser.new_context(viewport=DESKTOP, base_url=marketer_stack.url)
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("heading", name="Mini CRM").wait_for()
        text = page.locator("body").inner_text()
        assert not re.search(r"[A-Z]+_[A-Z_]+", text), text
    finally:
        context.close()


# -- 7: the live page ------------------------------------------------------------------
def test_finished_campaign_has_no_eta_and_its_chart_matches_the_counters(
    desktop: Any, seeded: Seeded
) -> None:
    page = desktop
    page.goto(f"/campaigns/{seeded.completed_id}")
    page.get_by_test_id("campaign-status").get_by_text("completed").wait_for()
    latest = page.get_by_test_id("timeline-latest")
    latest.wait_for(state="attached")
    delivered, failed = stat(page, "delivered"), stat(page, "failed")
    assert re.search(rf"\b{delivered} delivered, {failed} failed$", latest.inner_text())
    assert int(delivered) + int(failed) == seeded.mumbai
    assert page.get_by_test_id("campaign-eta").count() == 0
    assert page.get_by_text("live", exact=True).count() == 0


def test_scheduled_campaign_shows_its_audience_a_countdown_and_is_not_live(
    desktop: Any, seeded: Seeded
) -> None:
    page = desktop
    page.goto(f"/campaigns/{seeded.scheduled_id}")
    page.get_by_test_id("campaign-status").get_by_text("scheduled").wait_for()
    estimate = page.get_by_test_id("stat-audience-(now)")
    page.wait_for_function(
        "([el, n]) => el.textContent.includes(n)",
        arg=[estimate.element_handle(), f"{seeded.mumbai}"],
    )
    assert stat(page, "pending") == "—"
    assert re.fullmatch(
        r"Starts in 2 d [23] h", page.get_by_test_id("campaign-countdown").inner_text()
    )
    page.wait_for_timeout(500)  # the event stream opens at once: the badge would be up now
    assert page.get_by_text("live", exact=True).count() == 0
    page.get_by_text("they are created when the campaign starts").wait_for()


# -- 8: the communications filter --------------------------------------------------------
def test_communications_filter_knows_pending_and_held(desktop: Any, seeded: Seeded) -> None:
    page = desktop
    page.goto(f"/campaigns/{seeded.scheduled_id}")
    page.get_by_test_id("campaign-status").get_by_text("scheduled").wait_for()
    options = page.locator("#comm-status option").all_inner_texts()
    assert {"pending", "held"} <= set(options), options

    page.goto(f"/campaigns/{seeded.completed_id}")
    page.get_by_test_id("campaign-status").get_by_text("completed").wait_for()
    page.locator("#comm-status").select_option("pending")
    page.get_by_text("No pending messages").wait_for()
    assert page.get_by_text("unknown status").count() == 0
    page.locator("#comm-status").select_option("delivered")
    page.get_by_role("table", name="Messages of this campaign").wait_for()


# -- 9: stale screens ---------------------------------------------------------------------
def test_a_revoked_key_is_no_longer_shown_to_copy(desktop: Any) -> None:
    page = desktop
    page.goto("/settings")
    page.get_by_label("Name").fill("Revoke me")
    page.get_by_role("button", name="Create key").click()
    page.get_by_test_id("new-api-key").wait_for()
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name=re.compile("Revoke.*Revoke me")).click()
    page.get_by_test_id("new-api-key").wait_for(state="detached")
    assert page.get_by_text("Copy this key now").count() == 0


def test_audience_page_opens_without_errors_and_shows_no_stale_count(desktop: Any) -> None:
    page = desktop
    page.goto("/audience")
    page.get_by_role("heading", name="Audience builder").wait_for()
    page.wait_for_timeout(600)  # past the preview's debounce
    assert page.get_by_text("enter a value", exact=True).count() == 0
    value = page.get_by_test_id("rule-condition").first.get_by_label("Value")
    value.fill("500")
    count = page.get_by_test_id("audience-count")
    page.wait_for_function("(el) => el.textContent.trim() === '60'", arg=count.element_handle())
    value.fill("")
    page.get_by_text("Fix the highlighted conditions").wait_for()
    assert count.inner_text().strip() == "—"
    assert page.get_by_test_id("audience-count-compact").inner_text().endswith("—")


# -- 10: segments and campaigns -----------------------------------------------------------
def test_segment_names_are_unique_and_a_segment_can_be_renamed(desktop: Any) -> None:
    page = desktop
    page.goto("/audience")
    page.get_by_test_id("rule-condition").first.get_by_label("Value").fill("500")
    page.get_by_label("Name", exact=True).fill("mumbai SHOPPERS")
    page.get_by_role("button", name="Save segment").click()
    page.get_by_text("already used by another segment").wait_for()

    page.get_by_role("button", name="Load segment Mumbai shoppers").click()
    name = page.get_by_label("Name", exact=True)
    assert name.input_value() == "Mumbai shoppers"
    name.fill("Mumbai buyers")
    page.get_by_role("button", name="Save changes to “Mumbai shoppers”").click()
    page.get_by_text("Saved “Mumbai buyers”.").wait_for()
    page.get_by_role("button", name="Load segment Mumbai buyers").wait_for()
    assert page.get_by_role("button", name="Load segment Mumbai shoppers").count() == 0


def test_campaigns_are_searched_exported_and_cloned(
    desktop: Any, seeded: Seeded, tmp_path: Path
) -> None:
    page = desktop
    page.goto("/campaigns")
    page.get_by_label("Search campaigns by name").fill("WEEKEND")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=campaign-row]')]"
        ".map((r) => r.querySelector('a').textContent).join('|') === 'Mumbai weekend'"
    )
    page.get_by_label("Search campaigns by name").fill("")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=campaign-row]').length >= 2"
    )
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    saved = tmp_path / "campaigns.csv"
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("id,name,status")
    assert {"Mumbai welcome", "Mumbai weekend"} <= {line.split(",")[1] for line in lines[1:]}

    page.goto(f"/campaigns/{seeded.completed_id}")
    page.get_by_role("button", name="Clone").click()
    page.wait_for_url("**/campaigns/new")
    assert page.get_by_label("Name").first.input_value() == "Copy of Mumbai welcome"
    assert page.get_by_label("Message text").input_value() == "Hi {name}!"


def test_customer_messages_are_labelled_with_the_campaign_name(
    desktop: Any, seeded: Seeded
) -> None:
    page = desktop
    page.goto("/customers/mk000")  # in Mumbai: a message of "Mumbai welcome"
    page.get_by_role("link", name="Mumbai welcome").wait_for()
    assert page.get_by_text(re.compile(r"Campaign cmp_")).count() == 0


# -- 11: layout -----------------------------------------------------------------------------
def clipped_tables(page: Any) -> list[str]:
    """Tables wider than the box that holds them (their right columns cut off)."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('main table')]
              .filter((t) => t.parentElement.scrollWidth > t.parentElement.clientWidth + 1)
              .map((t) => t.getAttribute('aria-label') || t.caption?.textContent || 'table')"""
        )
    )


WIDE_RULES = {  # five fields: the sample table shows a column for each
    "operator": "OR",
    "conditions": [
        {"field": "totalSpends", "operator": ">", "value": 500},
        {"field": "visits", "operator": ">=", "value": 0},
        {"field": "lastVisit", "operator": "exists", "value": True},
        {"field": "tags", "operator": "contains", "value": "vip"},
        {"field": "city", "operator": "=", "value": "Mumbai"},
    ],
}


def test_no_table_is_cut_off_at_1280(desktop: Any, seeded: Seeded) -> None:
    page = desktop
    page.goto("/audience")
    saved = page.evaluate(
        """async (rules) => (await fetch("/api/segments", {method: "POST",
            credentials: "include", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({name: "Five columns", rules})})).status""",
        WIDE_RULES,
    )
    assert saved == 201
    page.reload()
    page.get_by_role("button", name="Load segment Five columns").click()
    table = page.get_by_role("table", name="Sample of matching customers")
    table.get_by_role("columnheader", name="Last visit").wait_for()
    table.get_by_role("columnheader", name="Tags").wait_for()
    assert clipped_tables(page) == []
    page.goto(f"/campaigns/{seeded.completed_id}")
    page.get_by_role("table", name="Messages of this campaign").wait_for()
    settled(page)
    assert clipped_tables(page) == []


def test_phone_shows_the_live_count_above_the_rule_builder(
    browser: Any, marketer_stack: Any, seeded: Seeded
) -> None:
    context = signed_in_context(browser, marketer_stack.url, PHONE)
    try:
        page = context.new_page()
        page.goto("/audience")
        page.get_by_test_id("rule-condition").first.get_by_label("Value").fill("500")
        compact = page.get_by_test_id("audience-count-compact")
        page.wait_for_function(
            "(el) => el.textContent.endsWith('60')", arg=compact.element_handle()
        )
        count_box = compact.bounding_box()
        rules_box = page.get_by_test_id("rule-root").bounding_box()
        assert count_box["y"] + count_box["height"] <= rules_box["y"]
    finally:
        context.close()


# -- 5, 6: send-time advice and lookalikes -------------------------------------------------
def test_send_time_advice_labels_its_numbers(desktop: Any) -> None:
    page = desktop
    page.goto("/campaigns/new")
    page.get_by_role("button", name="Best time to send?").click()
    hint = page.get_by_test_id("timing-hint")
    hint.wait_for(timeout=30_000)
    text = hint.inner_text()
    assert not re.search(r"— \d", text), text
    assert "engagement events at this hour" in text, text
    first = hint.get_by_role("button").first.inner_text()
    assert re.search(r"\d\d:00 .*(your time|time)", first), first


def test_a_campaign_can_leave_at_a_time_of_day_in_each_customers_zone(
    desktop: Any, seeded: Seeded
) -> None:
    """Item 5: the advice named a local hour but scheduled one moment for everyone."""
    page = desktop
    page.goto(f"/campaigns/{seeded.completed_id}")
    page.get_by_role("button", name="Clone").click()
    page.wait_for_url("**/campaigns/new")
    page.get_by_label("Name").first.fill("Mumbai at dinner time")
    page.get_by_label("At a time of day in each customer's zone").check()
    page.get_by_label("Send at (each customer's own clock)").fill("21:30")
    assert "clock reads 21:30" in page.get_by_test_id("local-time-hint").inner_text()
    page.get_by_role("button", name="Review and launch").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("at 21:30 in each customer's time zone").wait_for()
    dialog.get_by_role("button", name="Launch to").click()
    page.wait_for_url("**/campaigns/cmp_*")
    page.get_by_text("sent at 21:30 in each customer's time zone").wait_for()
    campaign_id = page.url.rstrip("/").rsplit("/", 1)[1]
    body = page.evaluate("async (id) => (await fetch(`/api/campaigns/${id}`)).json()", campaign_id)
    assert body["sendAtLocalTime"] == "21:30", body
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Cancel").click()
    page.get_by_test_id("campaign-status").get_by_text("cancelled").wait_for()


def test_lookalikes_count_like_the_panel_show_emails_and_save_as_a_segment(
    desktop: Any,
) -> None:
    page = desktop
    page.goto("/audience")
    condition = page.get_by_test_id("rule-condition").first
    condition.get_by_label("Field").select_option("city")
    condition.get_by_label("Operator").select_option("=")
    condition.get_by_label("Value").fill("Mumbai")
    page.wait_for_function(
        "(el) => el.textContent.trim() === '20'",
        arg=page.get_by_test_id("audience-count").element_handle(),
    )
    page.get_by_role("button", name="Find lookalikes").click()
    count = page.get_by_test_id("lookalike-count")
    page.wait_for_function(
        "(el) => /^\\d+$/.test(el.textContent.replace(/,/g, ''))",
        arg=count.element_handle(timeout=30_000),
    )
    found = count.inner_text()
    sample = page.get_by_role("list", name="Some of the lookalike customers")
    assert "@example.com" in sample.inner_text()
    page.get_by_label("Segment name").fill("Mumbai lookalikes")
    page.get_by_role("button", name="Save as segment").click()
    page.get_by_text("Saved “Mumbai lookalikes”.").wait_for()
    page.get_by_role("button", name="Load segment Mumbai lookalikes").wait_for()
    page.get_by_role("button", name="Load these rules").click()
    page.wait_for_function(
        "([el, n]) => el.textContent.trim() === n",
        arg=[page.get_by_test_id("audience-count").element_handle(), found],
    )
