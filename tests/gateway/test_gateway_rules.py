"""Pure logic of the gateway: who may do what, where a path goes, docs merging."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.gateway.access import (
    ADMIN,
    ALL_SCOPES,
    SESSION,
    Identity,
    allows,
    email_allowed,
    is_ingestion,
    origin_allowed,
    required_access,
    scopes_need,
)
from services.gateway.docs import merge_openapi
from services.gateway.frontend import resolve
from services.gateway.keys import display_prefix, hash_key, looks_like_key, new_key
from services.gateway.proxy import upstream_for

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("method", "path", "access"),
    [
        ("GET", "/api/customers", "read"),
        ("POST", "/api/customers", "ingest"),
        ("POST", "/api/customers/batch", "ingest"),
        ("POST", "/api/orders/batch", "ingest"),
        ("POST", "/api/customers/import", "ingest"),
        ("POST", "/api/customers/preview", "read"),
        ("GET", "/api/imports/abc", "read"),
        ("POST", "/api/campaigns", "campaigns"),
        ("POST", "/api/campaigns/c1/pause", "campaigns"),
        ("DELETE", "/api/segments/s1", "campaigns"),
        ("POST", "/api/ai/segment-from-text", "campaigns"),
        ("POST", "/api/ai/lookalike-audience", "campaigns+read"),
        ("GET", "/api/campaigns/c1/events", "read"),
        ("POST", "/api/deliveries/receipts", "public"),
        ("POST", "/api/deliveries/receipts/", "public"),
        ("GET", "/api/deliveries/receipts", "read"),
        ("POST", "/api/deliveries/other", "admin"),
        ("GET", "/api/keys", "session"),
        ("POST", "/api/keys", "session"),
        ("DELETE", "/api/keys/k1", "session"),
        ("GET", "/api/admin/streams", "read"),
        ("POST", "/api/admin/streams/ingest/dlq/replay", "admin"),
        ("GET", "/api/users", "admin"),
        ("PATCH", "/api/users/u1", "admin"),
        ("GET", "/api/audit", "admin"),
        ("GET", "/api/suppressions", "admin"),
        ("POST", "/api/suppressions", "admin"),
        ("POST", "/api/customers/c1/erase", "admin"),
        ("POST", "/api/customersfoo", "admin"),
    ],
)
def test_required_access_by_method_and_path(method, path, access):
    assert required_access(method, path).describe() == access


def test_a_session_acts_with_its_role_and_a_key_with_its_scopes_within_the_role():
    admin = Identity(user_id="u", email="e", role="admin")
    viewer = Identity(user_id="v", email="e", role="viewer")
    key = Identity(user_id="u", email="e", role="admin", key_scopes=("read",), via="key")
    wide = Identity(user_id="v", email="e", role="viewer", key_scopes=ALL_SCOPES, via="key")
    assert all(allows(admin, n) for n in (SESSION, ADMIN, *[scopes_need(s) for s in ALL_SCOPES]))
    assert allows(viewer, SESSION) and allows(viewer, scopes_need("read"))
    assert not allows(viewer, scopes_need("campaigns")) and not allows(viewer, ADMIN)
    assert allows(key, scopes_need("read")) and not allows(key, scopes_need("ingest"))
    assert not allows(key, SESSION) and not allows(key, ADMIN)
    # A key made while its owner was a marketer narrows when the owner becomes a viewer.
    assert wide.scopes == ("read",) and not allows(wide, scopes_need("ingest"))


def test_only_ingestion_posts_are_ingestion():
    assert is_ingestion("POST", "/api/customers/batch")
    assert is_ingestion("POST", "/api/orders")
    assert not is_ingestion("GET", "/api/customers")
    assert not is_ingestion("POST", "/api/campaigns")


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/customers", "ingest"),
        ("/api/customers/batch", "ingest"),
        ("/api/orders/batch", "ingest"),
        ("/api/imports/i1", "ingest"),
        ("/api/campaigns", "campaign"),
        ("/api/campaigns/c1/events", "campaign"),
        ("/api/campaigns/c1/communications", "delivery"),
        ("/api/campaigns/c1/communications/x", "delivery"),
        ("/api/campaigns/stats/overview", "campaign"),
        ("/api/segments/s1", "campaign"),
        ("/api/deliveries/receipts", "delivery"),
        ("/api/ai/optimal-timing", "ai"),
        ("/api/customersx", None),
        ("/api/unknown", None),
    ],
)
def test_paths_route_to_the_owning_service(path, service):
    assert upstream_for(path) == service


def test_origin_check_accepts_own_and_allowlisted_origins_only():
    own = {"http://crm.local:8000"}
    allowed = {"https://admin.example.com"}
    assert origin_allowed("http://crm.local:8000", None, own, allowed)
    assert origin_allowed("https://admin.example.com", None, own, allowed)
    assert origin_allowed(None, "http://crm.local:8000/campaigns/1", own, allowed)
    assert not origin_allowed("https://evil.test", None, own, allowed)
    assert not origin_allowed(None, "https://evil.test/page", own, allowed)
    assert not origin_allowed(None, None, own, allowed)
    assert not origin_allowed("null", None, own, allowed)


def test_email_allowlist_and_domains():
    assert email_allowed("a@x.com", [], [])
    assert email_allowed("A@X.com", ["x.com"], [])
    assert not email_allowed("a@y.com", ["x.com"], [])
    assert email_allowed("boss@y.com", ["x.com"], ["boss@y.com"])
    assert not email_allowed("other@y.com", [], ["boss@y.com"])


def test_keys_are_random_and_only_the_hash_identifies_them():
    key, other = new_key(), new_key()
    assert key != other and looks_like_key(key) and key.startswith("mcrm_")
    assert hash_key(key) == hash_key(key) != hash_key(other)
    assert key.startswith(display_prefix(key)) and len(display_prefix(key)) < 16
    assert not looks_like_key("Bearer nonsense")


def test_merged_docs_keep_both_versions_of_a_colliding_schema():
    gateway = {
        "openapi": "3.1.0",
        "paths": {"/api/keys": {"get": {}}, "/healthz": {"get": {}}},
        "components": {"schemas": {"Item": {"type": "string"}}},
    }
    ingest = {
        "paths": {
            "/api/customers": {
                "get": {"responses": {"200": {"$ref": "#/components/schemas/Item"}}}
            },
            "/readyz": {"get": {}},
        },
        "components": {"schemas": {"Item": {"type": "object"}}},
    }
    merged = merge_openapi(gateway, {"ingest": ingest}, {"ai": "ConnectError"})
    assert set(merged["paths"]) == {"/api/keys", "/api/customers"}
    schemas = merged["components"]["schemas"]
    assert schemas["Item"] == {"type": "string"}
    assert schemas["ingest_Item"] == {"type": "object"}
    ref = merged["paths"]["/api/customers"]["get"]["responses"]["200"]["$ref"]
    assert ref == "#/components/schemas/ingest_Item"
    assert merged["paths"]["/api/customers"]["get"]["tags"] == ["ingest"]
    assert "ai (ConnectError)" in merged["info"]["description"]


def test_frontend_files_never_resolve_outside_dist(tmp_path: Path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "assets" / "app.js").write_text("js")
    (tmp_path / "secret.txt").write_text("secret")
    assert resolve(dist, "assets/app.js") == (dist / "assets" / "app.js").resolve()
    assert resolve(dist, "../secret.txt") is None
    assert resolve(dist, "assets/missing.js") is None
    assert resolve(dist, "") is None


def test_settings_refuse_the_dev_session_secret_outside_development(monkeypatch):
    from services.gateway.settings import GatewaySettings

    monkeypatch.delenv("AUTH_DEV_LOGIN", raising=False)
    with pytest.raises(ValueError, match="GATEWAY_SESSION_SECRET"):
        GatewaySettings(environment="production", internal_token="t", allowed_emails="a@x.io")
    ok = GatewaySettings(
        environment="production",
        internal_token="t",
        session_secret="s" * 32,
        allowed_email_domains="example.com",
    )
    assert ok.dev_login is False and ok.cors_origin_list == []


def test_settings_refuse_to_start_outside_development_with_no_sign_in_allowlist(monkeypatch):
    from services.gateway.settings import GatewaySettings

    monkeypatch.delenv("GATEWAY_ALLOWED_EMAIL_DOMAINS", raising=False)
    monkeypatch.delenv("GATEWAY_ALLOWED_EMAILS", raising=False)
    secure = {"environment": "production", "internal_token": "t", "session_secret": "s" * 32}
    with pytest.raises(ValueError, match="GATEWAY_ALLOWED_EMAIL_DOMAINS"):
        GatewaySettings(**secure)
    with pytest.raises(ValueError, match="GATEWAY_ALLOWED_EMAIL_DOMAINS"):
        GatewaySettings(**secure, allowed_email_domains=" , ")
    assert GatewaySettings(**secure, allowed_emails="boss@y.com").allowed_emails
    assert GatewaySettings(environment="development").allowed_email_domains == ""


def test_settings_read_empty_env_values_as_unset(monkeypatch):
    from services.gateway.settings import GatewaySettings

    monkeypatch.setenv("GATEWAY_COOKIE_SECURE", "")
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", "https://a.example, https://b.example/")
    monkeypatch.setenv("GOOGLE_CLIENT_ID", "client-1")
    settings = GatewaySettings()
    assert settings.cookie_secure is None and settings.oidc_configured
    assert settings.cors_origin_list == ["https://a.example", "https://b.example"]
