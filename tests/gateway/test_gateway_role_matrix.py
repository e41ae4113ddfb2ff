"""Every /api route (from the OpenAPI of the gateway and of every service, the contract
and the proxy's table) called by every role and every kind of API key: the status says
whether it got through. A route nobody classified below fails the test, so a new route
cannot be forgotten."""

from __future__ import annotations

import re

import pytest

from tests.gateway.routes import all_api_routes, concrete

pytestmark = pytest.mark.integration

ORIGIN = "http://testserver"
SCOPES = ("ingest", "read", "campaigns")

# The specification, row by row: (method, path pattern) -> who may. First match wins.
#   "public": anyone; "session": any signed-in person, no API key; "admin": an admin's
#   session only; otherwise the scopes a role or key must hold.
MATRIX: list[tuple[str, str, str | tuple[str, ...]]] = [
    ("POST", r"/api/deliveries/receipts", "public"),
    ("*", r"/api/keys(/.*)?", "session"),
    ("*", r"/api/users(/.*)?", "admin"),
    ("*", r"/api/audit(/.*)?", "admin"),
    ("*", r"/api/suppressions(/.*)?", "admin"),
    ("POST", r"/api/customers/[^/]+/erase", "admin"),
    ("GET", r"/api/customers/[^/]+/export(-record)?", "admin"),
    ("POST", r"/api/admin/streams/[^/]+/dlq/replay", "admin"),
    ("GET", r"/api/.*", ("read",)),
    ("POST", r"/api/customers/preview", ("read",)),
    ("POST", r"/api/ai/lookalike-audience", ("campaigns", "read")),
    ("*", r"/api/(customers|orders|imports)(/.*)?", ("ingest",)),
    ("*", r"/api/(campaigns|segments|ai|journeys|settings/delivery)(/.*)?", ("campaigns",)),
    ("*", r"/api/.*", "admin"),  # any other write: admins only until someone maps it
]
ROLE_SCOPES = {"admin": SCOPES, "marketer": SCOPES, "viewer": ("read",)}


def rule(method: str, path: str) -> str | tuple[str, ...]:
    for wanted, pattern, who in MATRIX:
        if wanted in ("*", method) and re.fullmatch(pattern, path.rstrip("/")):
            return who
    raise AssertionError(f"{method} {path}: no row in MATRIX says who may call it")


def may(who: str | tuple[str, ...], role: str, key_scopes: tuple[str, ...] | None) -> bool:
    if who == "public":
        return True
    if who == "session":
        return key_scopes is None
    if who == "admin":
        return key_scopes is None and role == "admin"
    held = ROLE_SCOPES[role] if key_scopes is None else set(key_scopes) & set(ROLE_SCOPES[role])
    return set(who) <= set(held)


def test_every_route_by_every_role_and_key_scope_gets_the_expected_answer(make_team):
    team = make_team(stream_max_lifetime_s=0.05)  # event streams end at once
    routes = sorted(all_api_routes(team.admin))
    assert ("GET", "/api/audit") in routes and ("PATCH", "/api/users/{user_id}") in routes
    assert len(routes) > 60
    callers: list[tuple[str, str, tuple[str, ...] | None, str | None]] = [
        (role, f"{role} session", None, None) for role in ("admin", "marketer", "viewer")
    ]
    for scope in SCOPES:
        callers.append(("admin", f"admin's {scope} key", (scope,), team.key("admin", [scope])))
    callers.append(("marketer", "marketer's full key", SCOPES, team.key("marketer", list(SCOPES))))
    callers.append(("viewer", "viewer's read key", ("read",), team.key("viewer", ["read"])))

    wrong: list[str] = []
    for method, path in routes:
        who = rule(method, concrete(path))
        for role, name, key_scopes, key in callers:
            if key is None:
                response = team.clients[role].request(
                    method, concrete(path), json={}, headers={"Origin": ORIGIN}
                )
            else:
                response = team.with_key(key, method, concrete(path), json={})
            allowed = may(who, role, key_scopes)
            got_through = response.status_code not in (401, 403)
            if allowed != got_through:
                wrong.append(f"{method} {path} as {name}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
