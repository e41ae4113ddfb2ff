"""The unsubscribe link's page in a real browser: opening it changes nothing (mail
scanners open links), its button unsubscribes, without signing in."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from libs.common.settings import DEV_UNSUBSCRIBE_KEY
from libs.common.testing.pytest_plugin import wait_until
from libs.common.unsubscribe import TokenSigner
from tests.support.stack import RunningStack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def email_consent(client: httpx.Client) -> str:
    return str(client.get("/api/customers/p040").json()["consent"]["email"]["state"])


def test_the_link_page_shows_a_button_and_only_its_post_unsubscribes(
    browser: Any, consent_stack: RunningStack, consent_client: httpx.Client
) -> None:
    token = TokenSigner([DEV_UNSUBSCRIBE_KEY]).sign("p040", "email", "cmp-browser")
    context = browser.new_context(base_url=consent_stack.url)  # nobody signed in
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"/u/{token}")
        button = page.get_by_role("button", name="Unsubscribe from email")
        button.wait_for()
        page.reload()  # a second look (a link scanner) changes nothing either
        button.wait_for()
        assert email_consent(consent_client) == "unknown"

        button.click()
        page.get_by_role("heading", name="Done").wait_for()
        assert "unsubscribed" in page.get_by_role("listitem").first.inner_text()
        wait_until(lambda: email_consent(consent_client) == "unsubscribed", timeout=30)

        page.goto(f"/u/{token[:-3]}abc")  # tampered
        page.get_by_role("heading", name="Link not valid").wait_for()
    finally:
        context.close()


def test_consent_on_the_customer_page_and_suppressions_in_settings(
    browser: Any, consent_stack: RunningStack, consent_client: httpx.Client
) -> None:
    from tests.browser.conftest import DIST_INDEX

    if not DIST_INDEX.is_file():
        pytest.skip("frontend/dist is not built (make frontend)")
    context = browser.new_context(base_url=consent_stack.url)
    context.set_default_timeout(15_000)
    answer = context.request.post(
        "/auth/dev-login",
        data={"email": "e2e@example.com"},  # the consent stack's admin
        headers={"Origin": consent_stack.url},
    )
    assert answer.ok, answer.text()
    page = context.new_page()
    try:
        page.goto("/customers/p001")  # imported with email unsubscribed, sms subscribed
        consent = page.get_by_test_id("consent")
        consent.wait_for()
        assert "unsubscribed" in consent.inner_text() and "subscribed" in consent.inner_text()
        page.get_by_role("link", name="Export data").wait_for()

        page.goto("/settings")
        panel = page.get_by_test_id("suppressions")
        panel.get_by_label("Address", exact=True).fill("ui-blocked@example.com")
        panel.get_by_role("button", name="Add", exact=True).click()
        panel.get_by_text("ui-blocked@example.com", exact=True).wait_for()
        listed = consent_client.get("/api/suppressions", params={"q": "ui-blocked"}).json()
        assert [i["address"] for i in listed["items"]] == ["ui-blocked@example.com"]
        panel.get_by_role("button", name="Remove ui-blocked@example.com").click()
        panel.get_by_text("ui-blocked@example.com", exact=True).wait_for(state="detached")
    finally:
        context.close()
