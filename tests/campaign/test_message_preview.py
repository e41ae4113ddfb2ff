"""POST /api/campaigns/message-preview: the UI's preview rendered by the renderer that
delivery uses, in the workspace's currency and locale."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from libs.common.events import Recipient
from libs.common.testing.pytest_plugin import CleanEnv
from services.campaign.app import create_app
from services.campaign.settings import CampaignSettings
from services.delivery.compose import compose

pytestmark = pytest.mark.integration

HEADERS = {"X-Internal-Token": "test-internal-token", "X-User-Email": "ann@example.com"}
CUSTOMER = {
    "id": "c1",
    "name": "Asha Rao",
    "email": "asha@example.com",
    "totalSpends": 40459.87,
    "visits": 12,
    "lastVisit": "2026-11-26T19:59:16Z",
}
MESSAGE = (
    "Hi {firstName}, {totalSpends|currency} spent, last seen {lastVisit|date}; "
    '{city|default:"your city"} misses you. Orders: {orderCount|default:"none yet"}'
)


def test_preview_renders_with_the_workspace_currency_and_locale(api: TestClient) -> None:
    response = api.post(
        "/api/campaigns/message-preview", json={"message": MESSAGE, "customer": CUSTOMER}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"] == (
        "Hi Asha, ₹40,459.87 spent, last seen 26 Nov 2026; your city misses you. Orders: none yet"
    )
    assert (body["currency"], body["locale"]) == ("INR", "en-IN")
    assert {"kind": "value", "text": "₹40,459.87"} in body["segments"]


def test_preview_and_delivery_render_the_same_text(api: TestClient) -> None:
    preview = api.post(
        "/api/campaigns/message-preview", json={"message": MESSAGE, "customer": CUSTOMER}
    ).json()
    fields = {k: CUSTOMER[k] for k in ("totalSpends", "visits", "lastVisit")}
    recipient = Recipient(
        customer_id="c1", name=CUSTOMER["name"], email=CUSTOMER["email"], fields=fields
    )
    [sent], _ = compose("camp", MESSAGE, None, [recipient])
    assert sent.body == preview["text"]


def test_workspace_currency_and_locale_come_from_settings(clean_env: CleanEnv) -> None:
    settings = CampaignSettings(WORKSPACE_CURRENCY="USD", WORKSPACE_LOCALE="en-US")
    with TestClient(create_app(settings), headers=HEADERS) as client:
        body = client.post(
            "/api/campaigns/message-preview",
            json={"message": "{totalSpends|currency} on {lastVisit|date}", "customer": CUSTOMER},
        ).json()
    assert body["text"] == "$40,459.87 on Nov 26, 2026"


@pytest.mark.parametrize(
    "message", ["{name|upper}", "{name.__class__}", "{totalSpends|currency:>10}", "{nmae}"]
)
def test_a_bad_template_is_a_422_with_the_reason(api: TestClient, message: str) -> None:
    response = api.post("/api/campaigns/message-preview", json={"message": message})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_template"
