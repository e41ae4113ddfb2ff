"""Who gets in: sessions, API keys and scopes, the Origin check, rate limits, limits."""

from __future__ import annotations

import time

import pytest

from libs.common.testing.pytest_plugin import wait_until
from services.gateway.access import PUBLIC_ROUTES
from tests.gateway.routes import all_api_routes, concrete, documented_routes

pytestmark = pytest.mark.integration

ORIGIN = "http://testserver"


def test_every_api_route_answers_401_without_a_session_or_key(client):
    assert len(documented_routes()) >= 35  # the contract was read
    routes = all_api_routes(client)
    assert ("POST", "/api/keys") in routes and ("GET", "/api/admin/streams") in routes
    for method, path in sorted(routes):
        if (method, path.rstrip("/")) in PUBLIC_ROUTES:
            continue
        response = client.request(method, concrete(path), json={}, headers={"Origin": ORIGIN})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]["code"] == "unauthorized"


def test_signing_in_again_ends_the_previous_session(client, sign_in):
    sign_in(client)
    old = client.cookies["mcrm_session"]
    sign_in(client, "ann@example.com")
    assert client.cookies["mcrm_session"] != old
    assert client.get("/auth/user").status_code == 200
    client.cookies.clear()
    client.cookies.set("mcrm_session", old)
    assert client.get("/auth/user").status_code == 401


def test_a_session_expires_on_the_server_after_its_ttl(make_client, sign_in, clean_env):
    client = make_client(session_ttl_s=1)
    sign_in(client)
    assert client.get("/auth/user").status_code == 200
    assert 0 < max(clean_env.redis.ttl(k) for k in clean_env.redis.keys("session:*")) <= 1
    time.sleep(1.3)
    assert client.get("/auth/user").status_code == 401


def test_the_session_cookie_is_secure_over_https_and_httponly_lax_always(make_client):
    plain = make_client().post("/auth/dev-login", json={}).headers["set-cookie"].lower()
    assert "httponly" in plain and "samesite=lax" in plain and "secure" not in plain
    https = make_client()
    https.base_url = "https://testserver"
    secure = https.post("/auth/dev-login", json={}).headers["set-cookie"].lower()
    assert "secure" in secure and "httponly" in secure
    forced = make_client(cookie_secure=True).post("/auth/dev-login", json={})
    assert "secure" in forced.headers["set-cookie"].lower()


def test_a_tampered_session_cookie_is_not_a_session(client, sign_in):
    sign_in(client)
    value = client.cookies["mcrm_session"]
    client.cookies.clear()
    client.cookies.set("mcrm_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/auth/user").status_code == 401


def test_a_wrong_or_unknown_bearer_key_answers_401(client):
    for value in ("Bearer mcrm_" + "x" * 43, "Bearer nonsense", "Basic abc"):
        response = client.get("/api/customers", headers={"Authorization": value})
        assert response.status_code == 401


def test_the_vendor_receipt_webhook_needs_no_session_and_carries_no_identity(client):
    response = client.post(
        "/api/deliveries/receipts",
        content=b'{"receipts": []}',
        headers={"X-Vendor-Signature": "sha256=abc", "X-User-Id": "forged"},
    )
    assert response.status_code == 202
    seen = response.json()["headers"]
    assert seen["x-vendor-signature"] == "sha256=abc"
    assert "x-user-id" not in seen and seen["x-internal-token"] == "test-internal-token"


def test_api_keys_work_within_their_scopes_only(client, sign_in, create_key):
    sign_in(client)
    reader = create_key(client, ["read"])
    ingester = create_key(client, ["ingest"])
    planner = create_key(client, ["campaigns"])
    client.cookies.clear()  # machines have no session

    def call(key, method, path):
        headers = {"Authorization": f"Bearer {key}"}
        return client.request(method, path, json={}, headers=headers)

    assert call(reader, "GET", "/api/customers?page=2").status_code == 200
    assert call(reader, "POST", "/api/customers/preview").status_code == 202
    assert call(reader, "POST", "/api/customers/batch").status_code == 403
    ok = call(ingester, "POST", "/api/customers/batch")
    assert ok.status_code == 202  # no Origin needed: API keys are not cookies
    assert ok.json()["headers"]["x-auth-scopes"] == "ingest"
    assert call(ingester, "POST", "/api/orders/batch").status_code == 202
    denied = call(ingester, "GET", "/api/customers")
    assert denied.status_code == 403 and denied.json()["error"]["details"] == {"scope": "read"}
    assert call(ingester, "POST", "/api/campaigns").status_code == 403
    assert call(planner, "POST", "/api/campaigns").status_code == 202
    assert call(planner, "POST", "/api/ai/campaign-tags").status_code == 202
    assert call(planner, "POST", "/api/customers").status_code == 403
    for key in (reader, ingester, planner):
        assert call(key, "GET", "/api/keys").status_code == 403  # keys cannot make keys
        assert call(key, "POST", "/api/keys").status_code == 403


def test_keys_are_shown_once_stored_hashed_listed_and_revocable(
    make_client, sign_in, create_key, clean_env
):
    client = make_client()
    sign_in(client)
    key = create_key(client, ["ingest", "read"], name="importer")
    stored = clean_env.db("gateway")["api_keys"].find_one({"name": "importer"})
    assert key not in str(stored) and stored["hash"] != key
    listed = client.get("/api/keys").json()["items"]
    assert [(k["name"], k["scopes"]) for k in listed] == [("importer", ["ingest", "read"])]
    assert "key" not in listed[0] and key.startswith(listed[0]["prefix"])

    bearer = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/customers", headers=bearer).status_code == 200
    wait_until(lambda: client.get("/api/keys").json()["items"][0]["lastUsedAt"], timeout=5)

    other = make_client()
    sign_in(other, "bob@example.com")
    key_id = listed[0]["id"]
    assert other.delete(f"/api/keys/{key_id}", headers={"Origin": ORIGIN}).status_code == 404
    assert client.delete(f"/api/keys/{key_id}", headers={"Origin": ORIGIN}).status_code == 204
    assert client.get("/api/keys").json()["items"] == []
    client.cookies.clear()
    assert client.get("/api/customers", headers=bearer).status_code == 401


def test_key_creation_rejects_unknown_scopes_with_a_reason(client, sign_in):
    sign_in(client)
    response = client.post(
        "/api/keys", json={"name": "x", "scopes": ["admin"]}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 422
    assert "scopes" in response.json()["error"]["details"][0]["field"]


def test_cross_origin_writes_with_a_session_cookie_are_refused(make_client, sign_in):
    client = make_client(cors_origins="https://admin.example.com")
    sign_in(client)
    body = {"customers": []}
    evil = client.post("/api/customers/batch", json=body, headers={"Origin": "https://evil.test"})
    assert evil.status_code == 403 and evil.json()["error"]["code"] == "origin_refused"
    assert client.post("/api/customers/batch", json=body).status_code == 403  # no Origin
    assert client.delete("/api/keys/k", headers={"Origin": "https://evil.test"}).status_code == 403
    assert client.post("/auth/logout", headers={"Origin": "https://evil.test"}).status_code == 403
    assert client.get("/auth/user").status_code == 200  # the forged logout did nothing
    same = client.post("/api/customers/batch", json=body, headers={"Origin": ORIGIN})
    assert same.status_code == 202
    referer = {"Referer": f"{ORIGIN}/customers"}
    assert client.post("/api/customers/batch", json=body, headers=referer).status_code == 202
    listed = {"Origin": "https://admin.example.com"}
    assert client.post("/api/customers/batch", json=body, headers=listed).status_code == 202
    assert client.get("/api/customers", headers={"Origin": "https://evil.test"}).status_code == 200


def test_sign_in_is_rate_limited_per_client_with_retry_after(make_client):
    client = make_client(rate_limit_auth_per_min=3)
    answers = [client.post("/auth/dev-login", json={}).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    limited = client.post("/auth/dev-login", json={})
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60


def test_ingestion_is_rate_limited_per_key_with_retry_after(make_client, sign_in, create_key):
    client = make_client(rate_limit_ingest_per_s=2)
    sign_in(client)
    key = create_key(client, ["ingest"])
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {key}"}
    answers = [client.post("/api/orders/batch", json={}, headers=headers) for _ in range(10)]
    codes = [a.status_code for a in answers]
    assert codes.count(202) <= 4 and 429 in codes  # ten requests span at most two windows
    limited = next(a for a in answers if a.status_code == 429)
    assert limited.headers["retry-after"] == "1"


def test_every_response_carries_security_headers(client):
    for path in ("/", "/auth/config", "/api/customers", "/healthz"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"]


def test_cors_is_off_by_default_and_follows_the_allowlist(make_client):
    closed = make_client()
    preflight = {"Origin": "https://admin.example.com", "Access-Control-Request-Method": "POST"}
    answer = closed.options("/api/customers", headers=preflight)
    assert "access-control-allow-origin" not in answer.headers
    opened = make_client(cors_origins="https://admin.example.com")
    answer = opened.options("/api/customers", headers=preflight)
    assert answer.headers["access-control-allow-origin"] == "https://admin.example.com"


def test_oversized_bodies_are_refused_with_413_and_a_reason(make_client, sign_in, create_key):
    client = make_client(max_body_bytes=10_000)
    sign_in(client)
    key = create_key(client, ["ingest"])
    headers = {"Authorization": f"Bearer {key}"}
    declared = client.post("/api/customers/batch", content=b"x" * 20_000, headers=headers)
    assert declared.status_code == 413
    assert "exceeds the limit of 10000 bytes" in declared.json()["error"]["message"]

    def chunks():
        for _ in range(30):
            yield b"y" * 1000

    streamed = client.post("/api/customers/batch", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    small = client.post("/api/customers/batch", content=b"z" * 5000, headers=headers)
    assert small.status_code == 202 and small.json()["bodyLength"] == 5000
