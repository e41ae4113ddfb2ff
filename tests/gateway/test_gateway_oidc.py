"""A full authorization-code sign-in against a real local OpenID Connect provider."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oidc_provider_mock import User, run_server_in_thread

pytestmark = pytest.mark.integration

ORIGIN = "http://testserver"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    users = [
        User(sub="alice", claims={"email": "alice@example.com", "name": "Alice A"}),
        User(sub="mallory", claims={"email": "mallory@evil.test", "name": "Mallory"}),
    ]
    with run_server_in_thread(user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def oidc_client(make_client, provider):
    def build(**overrides):
        return make_client(
            oidc_discovery_url=f"{provider}/.well-known/openid-configuration",
            oidc_client_id="mini-crm",
            oidc_client_secret="not-checked-by-the-mock",
            dev_login=False,
            **overrides,
        )

    return build


def _authorize_at_provider(client, sub: str, start_url: str = "/auth/google") -> str:
    """Follow /auth/google to the provider, sign in there as ``sub``, return the
    callback URL (path and query) the provider sends the browser back to."""
    start = client.get(start_url, follow_redirects=False)
    assert start.status_code == 302, start.text
    authorize_url = start.headers["location"]
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["state"] and query["redirect_uri"] == [f"{ORIGIN}/auth/google/callback"]
    answer = httpx.post(authorize_url, data={"sub": sub}, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert back.path == "/auth/google/callback"
    return f"{back.path}?{back.query}"


def test_sign_in_with_the_provider_creates_a_session_and_logout_ends_it(oidc_client, clean_env):
    client = oidc_client()
    assert client.get("/auth/config").json() == {"devLogin": False, "providers": ["google"]}
    assert client.post("/auth/dev-login", json={}).status_code == 404  # off unless enabled

    callback = client.get(_authorize_at_provider(client, "alice"), follow_redirects=False)
    assert callback.status_code == 302 and callback.headers["location"] == "/"
    set_cookie = callback.headers["set-cookie"]
    assert "mcrm_session=" in set_cookie and "HttpOnly" in set_cookie
    assert "SameSite=lax" in set_cookie or "samesite=lax" in set_cookie.lower()
    assert "Max-Age=" in set_cookie

    me = client.get("/auth/user")
    assert me.status_code == 200
    assert me.json()["email"] == "alice@example.com" and me.json()["name"] == "Alice A"
    assert clean_env.db("gateway")["users"].count_documents({"email": "alice@example.com"}) == 1

    session_cookie = client.cookies["mcrm_session"]
    assert client.post("/auth/logout", headers={"Origin": ORIGIN}).status_code == 204
    # The browser may keep the old cookie; the server-side record is gone, so it is dead.
    client.cookies.set("mcrm_session", session_cookie)
    assert client.get("/auth/user").status_code == 401
    assert client.get("/api/keys").status_code == 401


def test_callback_with_a_forged_state_is_rejected_without_a_session(oidc_client):
    client = oidc_client()
    callback = _authorize_at_provider(client, "alice")
    path, _, query = callback.partition("?")
    params = parse_qs(query)
    forged = f"{path}?code={params['code'][0]}&state=forged-{params['state'][0][:8]}"
    response = client.get(forged, follow_redirects=False)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "sign_in_failed"
    assert "mcrm_session" not in response.headers.get("set-cookie", "")
    assert client.get("/auth/user").status_code == 401


def test_callback_without_the_redirect_cookie_is_rejected(oidc_client, make_client):
    client = oidc_client()
    callback = _authorize_at_provider(client, "alice")
    client.cookies.clear()  # another browser replays the provider's answer
    response = client.get(callback, follow_redirects=False)
    assert response.status_code == 400
    assert client.get("/auth/user").status_code == 401


def test_email_outside_the_allowed_domains_cannot_sign_in(oidc_client):
    client = oidc_client(allowed_email_domains="example.com")
    refused = client.get(_authorize_at_provider(client, "mallory"), follow_redirects=False)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "email_not_allowed"
    assert client.get("/auth/user").status_code == 401

    allowed = client.get(_authorize_at_provider(client, "alice"), follow_redirects=False)
    assert allowed.status_code == 302
    assert client.get("/auth/user").json()["email"] == "alice@example.com"


def test_google_sign_in_answers_404_when_not_configured(make_client):
    client = make_client(oidc_client_id="")
    assert client.get("/auth/google", follow_redirects=False).status_code == 404
    assert client.get("/auth/config").json()["providers"] == []


def test_after_sign_in_the_browser_returns_to_the_page_it_came_from_on_this_site(oidc_client):
    client = oidc_client()
    back = client.get(
        _authorize_at_provider(client, "alice", "/auth/google?next=/campaigns/c1"),
        follow_redirects=False,
    )
    assert back.headers["location"] == "/campaigns/c1"
    for outside in ("https://evil.test/", "//evil.test/x", "/\\evil.test"):
        back = client.get(
            _authorize_at_provider(client, "alice", f"/auth/google?next={outside}"),
            follow_redirects=False,
        )
        assert back.headers["location"] == "/", outside
