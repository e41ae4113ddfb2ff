"""The audit log: an entry for every state-changing action, readable by admins, never
changed or deleted through any route."""

from __future__ import annotations

import pytest

from libs.common.erasure import anonymous_id
from services.gateway.audit import ACTIONS

pytestmark = pytest.mark.integration

ORIGIN = "http://testserver"
WRITE = {"Origin": ORIGIN}


def _entries(team, **params):
    response = team.admin.get("/api/audit", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_every_listed_action_leaves_an_entry_with_who_what_target_and_outcome(team, clean_env):
    marketer = team.clients["marketer"]
    clean_env.redis.xadd("send.dlq", {"type": "t", "data": "{}", "trace": "", "error": "x"})
    calls = [
        (marketer, "POST", "/api/campaigns", "campaign.created", None),
        (marketer, "POST", "/api/campaigns/cmp_1/pause", "campaign.paused", "cmp_1"),
        (marketer, "POST", "/api/campaigns/cmp_1/resume", "campaign.resumed", "cmp_1"),
        (marketer, "POST", "/api/campaigns/cmp_1/cancel", "campaign.cancelled", "cmp_1"),
        (marketer, "POST", "/api/campaigns/cmp_1/launch", "campaign.launched", "cmp_1"),
        (marketer, "POST", "/api/segments", "segment.created", None),
        (marketer, "DELETE", "/api/segments/seg_1", "segment.deleted", "seg_1"),
        (marketer, "POST", "/api/customers/import", "import.started", None),
        (team.admin, "POST", "/api/customers/c_9/erase", "customer.erased", "c_9"),
        (team.admin, "POST", "/api/admin/streams/send/dlq/replay", "dlq.replayed", "send"),
    ]
    for client, method, path, _, _ in calls:
        response = client.request(method, path, json={}, headers=WRITE)
        assert response.status_code < 300, (path, response.text)
    # Suppressions (owned by ingest): admin-only and audited.
    assert team.admin.post("/api/suppressions", json={}, headers=WRITE).status_code < 300
    assert team.admin.delete("/api/suppressions/sup_1", headers=WRITE).status_code < 300
    assert marketer.post("/api/suppressions", json={}, headers=WRITE).status_code == 403
    created = marketer.post("/api/keys", json={"name": "k", "scopes": ["read"]}, headers=WRITE)
    key_id = created.json()["id"]
    assert marketer.delete(f"/api/keys/{key_id}", headers=WRITE).status_code == 204

    entries = _entries(team)
    by_action = {e["action"]: e for e in entries}
    for client, method, path, action, target in calls:
        entry = by_action[action]
        role = "admin" if client is team.admin else "marketer"
        assert entry["actor"]["email"] == f"{role}@example.com", action
        if action == "customer.erased":  # the erased person is named by an anonymous id
            path, target = path.replace("c_9", anonymous_id("c_9")), anonymous_id("c_9")
        assert (entry["method"], entry["path"], entry["target"]) == (method, path, target)
        assert entry["outcome"] == "ok" and entry["status"] < 300, entry
        assert entry["at"] and entry["traceId"]
    suppressions = _entries(team, action="suppression.added")
    assert [(e["actor"]["role"], e["outcome"]) for e in suppressions] == [
        ("marketer", "refused"),
        ("admin", "ok"),
    ]
    assert by_action["suppression.removed"]["target"] == "sup_1"
    assert by_action["key.created"]["target"] == key_id
    assert by_action["key.revoked"]["target"] == key_id
    assert by_action["dlq.replayed"]["details"] == {"replayed": 1, "limit": 1000}
    # The team's set-up: three sign-ins and the marketer's promotion.
    sign_ins = [e for e in entries if e["action"] == "auth.signed_in"]
    assert {e["actor"]["email"] for e in sign_ins} == {
        f"{r}@example.com" for r in ("admin", "marketer", "viewer")
    }
    [promotion] = [e for e in entries if e["action"] == "user.role_changed"]
    assert promotion["target"] == team.users["marketer"]["id"]
    assert promotion["details"] == {"from": "viewer", "to": "marketer"}
    assert promotion["actor"]["role"] == "admin"


def test_refused_and_failed_attempts_are_recorded_with_their_outcome(team):
    viewer = team.clients["viewer"]
    assert viewer.post("/api/campaigns/cmp_2/cancel", headers=WRITE).status_code == 403
    assert viewer.post("/api/admin/streams/send/dlq/replay", headers=WRITE).status_code == 403
    key = team.key("admin", ["read"])
    assert team.with_key(key, "POST", "/api/campaigns/cmp_3/pause").status_code == 403
    refused = _entries(team, outcome="refused")
    assert {(e["action"], e["target"], e["actor"]["via"]) for e in refused} == {
        ("campaign.cancelled", "cmp_2", "session"),
        ("dlq.replayed", "send", "session"),
        ("campaign.paused", "cmp_3", "key"),
    }
    by_key = next(e for e in refused if e["actor"]["via"] == "key")
    assert by_key["actor"]["keyId"] and by_key["status"] == 403


def test_the_audit_log_filters_by_action_actor_target_and_pages_back_in_time(team):
    marketer = team.clients["marketer"]
    for n in range(5):
        marketer.post(f"/api/campaigns/c{n}/pause", headers=WRITE)
    paused = _entries(team, action="campaign.paused")
    assert [e["target"] for e in paused] == [f"c{n}" for n in reversed(range(5))]
    assert _entries(team, target="c3")[0]["action"] == "campaign.paused"
    assert len(_entries(team, actor="MARKETER@example.com", action="campaign.paused")) == 5
    mine = _entries(team, actor=team.users["marketer"]["id"])
    assert mine and all(e["actor"]["userId"] == team.users["marketer"]["id"] for e in mine)
    first = team.admin.get("/api/audit", params={"action": "campaign.paused", "limit": 2}).json()
    assert len(first["items"]) == 2 and first["nextBefore"]
    rest = _entries(team, action="campaign.paused", before=first["nextBefore"])
    assert [e["target"] for e in first["items"] + rest][:5] == ["c4", "c3", "c2", "c1", "c0"]
    assert _entries(team, since="2100-01-01T00:00:00Z") == []
    bad = team.admin.get("/api/audit", params={"outcome": "maybe"})
    assert bad.status_code == 422


def test_reads_previews_and_record_ingestion_are_not_audited(team):
    marketer = team.clients["marketer"]
    before = len(_entries(team))
    marketer.get("/api/campaigns")
    marketer.post("/api/customers/preview", json={}, headers=WRITE)
    marketer.post("/api/ai/campaign-tags", json={}, headers=WRITE)
    marketer.post("/api/customers/batch", json={"customers": []}, headers=WRITE)
    marketer.post("/api/orders", json={}, headers=WRITE)
    assert len(_entries(team)) == before


def test_no_route_changes_or_deletes_an_audit_entry(team, client):
    team.clients["marketer"].post("/api/campaigns/c1/pause", headers=WRITE)
    entries = _entries(team)
    entry_id = entries[0]["id"]
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        for path in ("/api/audit", f"/api/audit/{entry_id}"):
            response = team.admin.request(method, path, json={"action": "x"}, headers=WRITE)
            assert response.status_code in (404, 405), (method, path, response.status_code)
    after = {e["id"]: e for e in _entries(team)}
    assert all(after[e["id"]] == e for e in entries)
    # The gateway's own routes: only GET under /api/audit; no service owns /api/audit.
    operations = client.app.openapi()["paths"]
    audit_paths = {p: set(ops) for p, ops in operations.items() if p.startswith("/api/audit")}
    assert audit_paths == {"/api/audit": {"get"}}


def test_every_mapped_action_is_a_write():
    assert all(method in ("POST", "PUT", "PATCH", "DELETE") for method, _, _ in ACTIONS)
