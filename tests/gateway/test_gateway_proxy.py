"""Proxying to a real upstream service: bodies, headers, SSE, failures."""

from __future__ import annotations

import hashlib
import json
import time

import httpx
import pytest

from libs.common.testing.pytest_plugin import wait_until
from libs.common.testing.servers import free_port

pytestmark = pytest.mark.integration

ORIGIN = "http://testserver"


@pytest.fixture
def key_client(make_client, sign_in, create_key):
    """A client for the ingestion API with an all-scopes API key and no cookie."""

    def build(**overrides):
        client = make_client(**overrides)
        sign_in(client)
        key = create_key(client, ["ingest", "read", "campaigns"])
        client.cookies.clear()
        client.headers["Authorization"] = f"Bearer {key}"
        return client

    return build


def test_a_large_batch_body_reaches_the_upstream_intact(key_client):
    client = key_client()
    customers = [
        {"id": f"c{i}", "name": f"Customer {i}", "email": f"c{i}@example.com", "visits": i}
        for i in range(60_000)
    ]
    body = json.dumps({"customers": customers}).encode()
    assert len(body) > 4_000_000
    response = client.post(
        "/api/customers/batch?source=test",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 202
    seen = response.json()
    assert seen["bodyLength"] == len(body)
    assert seen["bodySha256"] == hashlib.sha256(body).hexdigest()
    assert seen["path"] == "/api/customers/batch" and seen["query"] == "source=test"
    assert seen["headers"]["content-type"] == "application/json"
    assert response.headers["x-upstream"] == "fake"


def test_a_streamed_body_without_length_reaches_the_upstream_intact(key_client):
    client = key_client()
    parts = [bytes([i % 251]) * 65_536 for i in range(40)]
    response = client.post("/api/orders/batch", content=iter(parts))
    assert response.status_code == 202
    whole = b"".join(parts)
    assert response.json()["bodyLength"] == len(whole)
    assert response.json()["bodySha256"] == hashlib.sha256(whole).hexdigest()


def test_the_upstream_sees_the_gateways_identity_headers_not_the_clients(make_client, sign_in):
    client = make_client()
    user = sign_in(client)
    forged = {
        "Origin": ORIGIN,
        "X-User-Id": "admin",
        "X-User-Email": "admin@evil.test",
        "X-User-Role": "root",
        "X-Auth-Scopes": "everything",
        "X-Internal-Token": "guessed",
        "X-Trace-Id": "trace-from-client",
    }
    response = client.post("/api/campaigns", json={"name": "x"}, headers=forged)
    assert response.status_code == 202
    seen = response.json()["headers"]
    assert seen["x-user-id"] == user["id"]
    assert seen["x-user-email"] == "ann@example.com"
    assert seen["x-auth-scopes"] == "ingest,read,campaigns"
    assert seen["x-internal-token"] == "test-internal-token"
    assert "x-user-role" not in seen
    assert "cookie" not in seen and "authorization" not in seen
    # The client's trace id is carried on, so one id follows the request end to end.
    assert seen["x-trace-id"] == "trace-from-client"
    assert response.headers["x-trace-id"] == "trace-from-client"


def test_a_down_upstream_answers_502_naming_the_service(key_client):
    dead = f"http://127.0.0.1:{free_port()}"
    client = key_client(delivery_url=dead)
    response = client.get("/api/campaigns/c1/communications?page=1")
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "upstream_unavailable"
    assert error["details"]["service"] == "delivery" and "delivery" in error["message"]
    # The campaign itself is served by the campaign service, which is up.
    assert client.get("/api/campaigns/c1").status_code == 200
    metrics = client.get("/metrics", headers={"X-Internal-Token": "test-internal-token"}).text
    counter = "crm_gateway_upstream_requests_total"
    assert f'{counter}{{outcome="unavailable",service="delivery"}}' in metrics
    assert f'{counter}{{outcome="200",service="campaign"}}' in metrics


def test_a_slow_upstream_answers_504_after_the_configured_timeout(key_client):
    client = key_client(upstream_timeout_s=0.5)
    started = time.monotonic()
    response = client.get("/api/ai/slow")
    elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"
    assert 0.4 < elapsed < 2.5


def test_server_sent_events_pass_through_unbuffered(clean_env, upstream, spawn):
    env = clean_env.env(
        AUTH_DEV_LOGIN="true",
        GATEWAY_CAMPAIGN_URL=upstream.url,
        GATEWAY_UPSTREAM_TIMEOUT_S="0.5",  # SSE must not be cut by the read timeout
    )
    gateway = spawn("gateway", env=env, app="services.gateway.app:create_app")
    upstream.release.clear()
    with httpx.Client(base_url=gateway.url, timeout=10) as http:
        login = http.post("/auth/dev-login", json={}, headers={"Origin": gateway.url})
        assert login.status_code == 200
        with http.stream("GET", "/api/campaigns/c9/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.iter_lines()
            first = [next(lines) for _ in range(2)]
            # The upstream holds its second event until we have seen the first one.
            assert first[0] == "event: stats"
            assert json.loads(first[1].removeprefix("data: ")) == {"campaign": "c9", "n": 1}
            time.sleep(1.0)  # longer than the upstream timeout
            upstream.release.set()
            rest = [line for line in lines if line.startswith("data:")]
    assert json.loads(rest[0].removeprefix("data: ")) == {"n": 2, "released": True}

    # A browser leaving the page ends the upstream stream too: nothing lingers.
    with httpx.Client(base_url=gateway.url, timeout=10) as http:
        http.post("/auth/dev-login", json={}, headers={"Origin": gateway.url})
        upstream.release.clear()
        with http.stream("GET", "/api/campaigns/gone/events") as response:
            assert next(response.iter_lines()) == "event: stats"
    wait_until(lambda: "gone" in upstream.streams_ended, timeout=5)
    upstream.release.set()


def test_dot_segments_cannot_steer_a_request_to_another_route(key_client):
    client = key_client()
    # (httpx resolves literal dot segments itself, so send them encoded as an attacker would)
    for path in ("/api/customers/%2e%2e/keys", "/api/customers/%2E%2E/campaigns", "/api/ai/%2e/x"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert response.json()["error"]["code"] == "bad_path"
