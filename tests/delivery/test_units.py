"""Pure logic of delivery: composing messages, the vendor retry policy (httpx
MockTransport as the vendor), batch keys."""

from __future__ import annotations

import httpx
import pytest

from libs.common.events import Recipient
from libs.common.formatting import WorkspaceFormat
from services.delivery.compose import batch_key, compose, pick_channel
from services.delivery.signing import expected_signature, signature_ok, timestamp_fresh
from services.delivery.vendor import RetryPolicy, VendorClient, VendorRefused, VendorUnavailable

pytestmark = pytest.mark.unit

MESSAGES = [{"clientRef": "c:1", "to": "+1", "channel": "sms", "body": "x"}]


def accepted(request: httpx.Request) -> httpx.Response:
    return httpx.Response(202, json={"messages": [{"clientRef": "c:1", "vendorMessageId": "vm_1"}]})


def client_with(responses: list, max_retries: int = 5) -> tuple[VendorClient, list[float], list]:
    sleeps: list[float] = []
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer(request) if callable(answer) else answer

    http = httpx.Client(transport=httpx.MockTransport(handler), base_url="http://vendor")
    policy = RetryPolicy(max_retries=max_retries, base_s=0.1, cap_s=1.0)
    return VendorClient(http, "http://me/hook", policy, sleep=sleeps.append), sleeps, seen


def test_429_and_5xx_and_timeouts_are_retried_with_backoff_honouring_retry_after() -> None:
    client, sleeps, seen = client_with(
        [
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(503),
            httpx.ReadTimeout("slow"),
            accepted,
        ]
    )
    assert client.send("key-1", MESSAGES) == {"c:1": "vm_1"}
    assert sleeps[0] == 3.0
    assert 0.1 <= sleeps[1] <= 0.2 and 0.2 <= sleeps[2] <= 0.4
    assert {r.headers["idempotency-key"] for r in seen} == {"key-1"}


def test_a_4xx_other_than_429_is_permanent_and_not_retried() -> None:
    client, sleeps, seen = client_with([httpx.Response(400, json={"error": "bad number"})])
    with pytest.raises(VendorRefused, match="HTTP 400"):
        client.send("k", MESSAGES)
    assert len(seen) == 1 and sleeps == []


def test_retry_budget_exhausted_names_the_last_error() -> None:
    client, sleeps, seen = client_with([httpx.Response(500)] * 3, max_retries=2)
    with pytest.raises(VendorUnavailable, match="after 3 attempts: HTTP 500"):
        client.send("k", MESSAGES)
    assert len(seen) == 3 and len(sleeps) == 2


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(base_s=0.1, cap_s=1.0)
    ceilings = [max(policy.delay(a, None) for _ in range(50)) for a in range(6)]
    assert ceilings[0] <= 0.1 and 0.1 < ceilings[1] <= 0.2 and ceilings[5] <= 1.0
    assert ceilings[4] > 0.5


def test_channel_follows_contact_data_unless_requested() -> None:
    both = Recipient(customer_id="1", email="a@b.c", phone="+1")
    phone_only = Recipient(customer_id="2", phone="+1")
    assert pick_channel(None, both) == ("email", "a@b.c")
    assert pick_channel(None, phone_only) == ("sms", "+1")
    assert pick_channel("sms", both) == ("sms", "+1")
    assert pick_channel("email", phone_only) == "no email address"
    assert pick_channel("fax", both) == "unsupported channel 'fax'"


def test_an_invalid_template_fails_every_message_instead_of_sending_it() -> None:
    people = [Recipient(customer_id="1", name="Ann", email="a@b.c")]
    outgoing, undeliverable = compose("c", "Hi {name.__class__}", None, people)
    assert outgoing == []
    assert undeliverable[0].reason.startswith("invalid template: unknown placeholder")


def test_rendering_uses_entry_fields_and_contact_data() -> None:
    people = [Recipient(customer_id="1", name="Ann Lee", email="a@b.c", fields={"city": "Pune"})]
    [message], _ = compose("c", "{firstName} from {city} <{email}>", None, people)
    assert message.body == "Ann from Pune <a@b.c>"
    assert message.message_id == "c:1"


def test_dates_from_the_entry_render_as_dates() -> None:
    people = [
        Recipient(customer_id="1", email="a@b.c", fields={"lastVisit": "2026-03-04T10:00:00+00:00"})
    ]
    [message], _ = compose("c", "Last seen {lastVisit}", None, people)
    assert message.body == "Last seen 4 Mar 2026"  # a medium date in en-IN


def test_messages_render_money_and_dates_in_the_workspace_currency_and_locale() -> None:
    fields = {"totalSpends": 123456.5, "lastVisit": "2026-11-26T19:59:16Z"}
    people = [Recipient(customer_id="1", email="a@b.c", fields=fields)]
    text = '{totalSpends|currency} since {lastVisit|date}, {city|default:"your city"}'
    [indian], _ = compose("c", text, None, people)
    assert indian.body == "₹1,23,456.50 since 26 Nov 2026, your city"
    [american], _ = compose("c", text, None, people, WorkspaceFormat("USD", "en-US"))
    assert american.body == "$123,456.50 since Nov 26, 2026, your city"


def test_batch_key_depends_on_every_message_id_and_nothing_else() -> None:
    assert batch_key("send", "c", "1.0", ["a", "b"]) == batch_key("send", "c", "1.0", ["a", "b"])
    assert batch_key("send", "c", "1.0", ["a", "b"]) != batch_key("send", "c", "1.0", ["a", "c"])
    assert batch_key("send", "c", "1.0", ["a"]) != batch_key("send", "c", "1.1", ["a"])


def test_signature_is_checked_over_the_exact_body_and_its_timestamp() -> None:
    header = expected_signature("s3cret", b'{"a":1}', 1700000000)
    assert signature_ok("s3cret", b'{"a":1}', header, "1700000000")
    assert not signature_ok("s3cret", b'{"a": 1}', header, "1700000000")
    assert not signature_ok("s3cret", b'{"a":1}', header, "1700000001")
    assert not signature_ok("other", b'{"a":1}', header, "1700000000")
    assert not signature_ok("s3cret", b'{"a":1}', None, "1700000000")
    assert not signature_ok("s3cret", b'{"a":1}', header, None)


def test_a_receipt_timestamp_is_fresh_within_the_allowed_age_either_way() -> None:
    assert timestamp_fresh("1000", 1300.0, 300)
    assert timestamp_fresh("1300", 1000.0, 300)
    assert not timestamp_fresh("999", 1300.0, 300)
    assert not timestamp_fresh("soon", 1300.0, 300)
    assert not timestamp_fresh(None, 1300.0, 300)


def test_delivery_refuses_to_start_with_the_default_webhook_secret_outside_development(
    monkeypatch,
) -> None:
    from pydantic import ValidationError

    from services.delivery.settings import DEV_WEBHOOK_SECRET, DeliverySettings

    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("INTERNAL_TOKEN", "a-real-internal-token")
    monkeypatch.setenv("VENDOR_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET)
    with pytest.raises(ValidationError, match="VENDOR_WEBHOOK_SECRET"):
        DeliverySettings()
    monkeypatch.setenv("VENDOR_WEBHOOK_SECRET", "a-real-webhook-secret")
    assert DeliverySettings().webhook_secret == "a-real-webhook-secret"
