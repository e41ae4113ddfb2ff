"""The public unsubscribe pages at the gateway: no sign-in, no Origin, the internal
token added on the way to ingest, and a limit per client address."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration


def test_u_pages_are_public_passed_to_ingest_and_rate_limited(make_client: Any) -> None:
    client = make_client(rate_limit_unsubscribe_per_min=3)  # nobody signs in
    page = client.get("/u/some.token")
    assert page.status_code == 200
    forwarded = page.json()  # the fake upstream echoes what it got
    assert forwarded["path"] == "/public/u/some.token"
    assert forwarded["headers"]["x-internal-token"], "the gateway vouches for the request"
    assert page.headers["cache-control"] == "no-store"
    one_click = client.post(
        "/u/some.token",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},  # no Origin: a mail client
    )
    assert one_click.status_code == 202 and one_click.json()["method"] == "POST"
    assert one_click.json()["bodyLength"] == len("List-Unsubscribe=One-Click")
    assert client.get("/u/some.token").status_code == 200
    limited = client.get("/u/some.token")
    assert limited.status_code == 429, "the fourth request of the minute from one address"
