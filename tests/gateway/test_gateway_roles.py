"""Roles: who becomes admin, what each role may do, keys within their owner's role."""

from __future__ import annotations

import threading

import pytest

from libs.common.mongo import make_client as make_mongo
from services.gateway.store import GatewayStore

pytestmark = pytest.mark.integration

ORIGIN = "http://testserver"
WRITE = {"Origin": ORIGIN}


def test_the_first_person_on_an_empty_installation_is_admin_and_later_ones_viewers(
    make_client, sign_in
):
    first, second = make_client(), make_client()
    assert sign_in(first, "first@example.com")["role"] == "admin"
    assert sign_in(second, "second@example.com")["role"] == "viewer"
    assert first.get("/auth/user").json()["role"] == "admin"
    # Signing in again keeps the role held.
    assert sign_in(first, "first@example.com")["role"] == "admin"


def test_two_first_sign_ins_at_once_make_exactly_one_admin(clean_env):
    client = make_mongo(clean_env.mongo_uri)
    store = GatewayStore(client[f"{clean_env.db_prefix}gateway"])
    store.ensure_indexes()
    roles: list[str] = []
    barrier = threading.Barrier(8)

    def sign(n: int) -> None:
        barrier.wait()
        doc = store.upsert_user(
            provider="dev", subject=f"p{n}", email=f"p{n}@x.io", name="P", picture=None
        )
        roles.append(doc["role"])

    threads = [threading.Thread(target=sign, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    assert sorted(roles) == ["admin"] + ["viewer"] * 7


def test_a_role_granted_to_an_email_applies_at_its_first_sign_in(make_client, sign_in):
    admin = make_client()
    sign_in(admin, "boss@example.com")
    granted = admin.post(
        "/api/users/grants", json={"email": "Mia@Example.com", "role": "marketer"}, headers=WRITE
    )
    assert granted.status_code == 200, granted.text
    assert sign_in(make_client(), "mia@example.com")["role"] == "marketer"
    listed = admin.get("/api/users").json()
    assert {u["email"]: u["role"] for u in listed["items"]} == {
        "boss@example.com": "admin",
        "mia@example.com": "marketer",
    }
    assert listed["grants"] == [{"email": "mia@example.com", "role": "marketer"}]


def test_a_viewer_reads_but_cannot_write_and_a_marketer_cannot_administer(team):
    viewer, marketer = team.clients["viewer"], team.clients["marketer"]
    assert viewer.get("/api/campaigns").status_code == 200
    refused = viewer.post("/api/campaigns/c1/cancel", headers=WRITE)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "role_refused"
    assert viewer.post("/api/customers/batch", json={}, headers=WRITE).status_code == 403
    assert marketer.post("/api/campaigns/c1/cancel", headers=WRITE).status_code == 202
    assert marketer.post("/api/segments", json={}, headers=WRITE).status_code == 202
    for method, path in [
        ("GET", "/api/users"),
        ("GET", "/api/audit"),
        ("GET", "/api/keys?all=true"),
        ("POST", "/api/admin/streams/send/dlq/replay"),
        ("PATCH", f"/api/users/{team.users['viewer']['id']}"),
    ]:
        response = marketer.request(method, path, json={"role": "admin"}, headers=WRITE)
        assert response.status_code == 403, (method, path, response.text)


def test_a_key_carries_no_scope_beyond_its_owners_role(team):
    viewer = team.clients["viewer"]
    wide = viewer.post("/api/keys", json={"name": "k", "scopes": ["read", "ingest"]}, headers=WRITE)
    assert wide.status_code == 403 and wide.json()["error"]["code"] == "scope_beyond_role"
    assert (
        viewer.post("/api/keys", json={"name": "k", "scopes": ["read"]}, headers=WRITE).status_code
        == 201
    )


def test_demoting_a_person_narrows_their_existing_keys_at_once(team):
    key = team.key("marketer", ["ingest", "read"])
    assert team.with_key(key, "POST", "/api/customers/batch", json={}).status_code == 202
    demoted = team.admin.patch(
        f"/api/users/{team.users['marketer']['id']}", json={"role": "viewer"}, headers=WRITE
    )
    assert demoted.status_code == 200 and demoted.json()["role"] == "viewer"
    assert team.with_key(key, "POST", "/api/customers/batch", json={}).status_code == 403
    assert team.with_key(key, "GET", "/api/customers").status_code == 200


def test_the_last_admin_cannot_be_demoted(team):
    me = team.users["admin"]["id"]
    refused = team.admin.patch(f"/api/users/{me}", json={"role": "viewer"}, headers=WRITE)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "last_admin"
    promote = team.admin.patch(
        f"/api/users/{team.users['viewer']['id']}", json={"role": "admin"}, headers=WRITE
    )
    assert promote.status_code == 200
    assert (
        team.admin.patch(f"/api/users/{me}", json={"role": "viewer"}, headers=WRITE).json()["role"]
        == "viewer"
    )


def test_an_admin_sees_and_revokes_anyones_key_and_others_only_their_own(team):
    key = team.key("marketer", ["read"])
    everyone = team.admin.get("/api/keys?all=true").json()["items"]
    [item] = [k for k in everyone if k["owner"] == "marketer@example.com"]
    viewer = team.clients["viewer"]
    assert viewer.delete(f"/api/keys/{item['id']}", headers=WRITE).status_code == 404
    assert team.with_key(key, "GET", "/api/customers").status_code == 200
    assert team.admin.delete(f"/api/keys/{item['id']}", headers=WRITE).status_code == 204
    assert team.with_key(key, "GET", "/api/customers").status_code == 401


def test_dlq_replay_is_for_admins_only(team, clean_env):
    clean_env.redis.xadd("send.dlq", {"type": "t", "data": "{}", "trace": "", "error": "x"})
    marketer = team.clients["marketer"]
    assert marketer.post("/api/admin/streams/send/dlq/replay", headers=WRITE).status_code == 403
    assert clean_env.redis.xlen("send.dlq") == 1
    replay = team.admin.post("/api/admin/streams/send/dlq/replay", headers=WRITE)
    assert replay.status_code == 200 and replay.json() == {"replayed": 1}


def test_a_campaigns_key_cannot_read_customers_through_lookalike_audiences(team):
    campaigns_only = team.key("admin", ["campaigns"])
    both = team.key("admin", ["campaigns", "read"])
    path = "/api/ai/lookalike-audience"
    refused = team.with_key(campaigns_only, "POST", path, json={})
    assert refused.status_code == 403
    assert team.with_key(both, "POST", path, json={}).status_code == 202
    assert (
        team.with_key(campaigns_only, "POST", "/api/ai/campaign-tags", json={}).status_code == 202
    )


def test_docs_openapi_and_metrics_of_the_gateway_need_sign_in(team, make_client):
    anonymous = make_client()
    for path in ("/docs", "/redoc", "/openapi.json", "/metrics", "/api/docs", "/api/openapi.json"):
        assert anonymous.get(path, follow_redirects=False).status_code == 401, path
    viewer = team.clients["viewer"]
    assert viewer.get("/docs", follow_redirects=False).headers["location"] == "/api/docs"
    assert viewer.get("/metrics").status_code == 403
    assert team.admin.get("/metrics").status_code == 200
    token = {"Authorization": "Bearer test-internal-token"}
    assert anonymous.get("/metrics", headers=token).status_code == 200
    assert anonymous.get("/metrics", headers={"X-Internal-Token": "wrong"}).status_code == 401


def test_consumer_names_are_shown_to_admins_only(team, clean_env):
    redis = clean_env.redis
    redis.xgroup_create("ingest", "ingest", id="0", mkstream=True)
    redis.xadd("ingest", {"type": "t", "data": "1", "trace": ""})
    redis.xreadgroup("ingest", "host-7:pid-4242", {"ingest": ">"}, count=1)

    def consumers(response):
        ingest = next(s for s in response.json()["streams"] if s["stream"] == "ingest")
        return [c["name"] for c in ingest["groups"][0]["consumers"]]

    reader = team.key("admin", ["read"])
    assert consumers(team.with_key(reader, "GET", "/api/admin/streams")) == ["consumer-1"]
    assert consumers(team.clients["viewer"].get("/api/admin/streams")) == ["consumer-1"]
    assert consumers(team.admin.get("/api/admin/streams")) == ["host-7:pid-4242"]


def test_with_a_public_url_the_origin_check_ignores_the_host_header(make_client):
    client = make_client(public_url="https://crm.example.com")
    public = {"Origin": "https://crm.example.com"}
    assert client.post("/auth/dev-login", json={}, headers={"Origin": ORIGIN}).status_code == 403
    assert client.post("/auth/dev-login", json={}, headers=public).status_code == 200
    # The request's Host is testserver; an Origin echoing Host is not this site.
    forged = client.post("/api/campaigns/c1/cancel", headers={"Origin": ORIGIN})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "origin_refused"
    real = client.post("/api/campaigns/c1/cancel", headers={"Origin": "https://crm.example.com"})
    assert real.status_code == 202


def test_an_operator_gives_admin_by_hand_to_an_email(make_client, sign_in, clean_env, monkeypatch):
    from services.gateway.grant import main

    client = make_client()
    sign_in(client, "first@example.com")
    assert sign_in(make_client(), "ops@example.com")["role"] == "viewer"
    monkeypatch.setenv("MONGODB_URI", clean_env.mongo_uri)
    monkeypatch.setenv("DB_PREFIX", clean_env.db_prefix)
    assert main(["OPS@example.com", "admin"]) == 0
    assert sign_in(make_client(), "ops@example.com")["role"] == "admin"
    assert main(["new@example.com", "marketer"]) == 0
    assert sign_in(make_client(), "new@example.com")["role"] == "marketer"
