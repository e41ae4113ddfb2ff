"""HTTP routes of the gateway itself: sign-in, API keys, users and roles, the audit log,
stream admin, merged docs. Everything else under /api is proxied (services/gateway/proxy.py)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from libs.common.errors import AppError, Conflict, Forbidden, NotFound, Unauthorized
from libs.common.logging import get_logger
from libs.common.streams import ALL_STREAMS, partitioned_overview, replay_partitions
from services.gateway.access import (
    ADMIN,
    SESSION,
    Identity,
    Need,
    role_of,
    scopes_allowed_for,
    scopes_need,
)
from services.gateway.audit import action_for, actor_of
from services.gateway.docs import fetch_service_docs, merge_openapi
from services.gateway.keys import display_prefix, hash_key, new_key
from services.gateway.models import (
    AuditEntry,
    AuditPage,
    AuthConfig,
    DevLoginRequest,
    KeyCreate,
    KeyCreated,
    KeyItem,
    KeyList,
    ReplayResult,
    RoleChange,
    RoleGrant,
    StreamsOverview,
    UserItem,
    UserList,
    UserOut,
)
from services.gateway.sessions import new_record

log = get_logger(__name__)
AUTH_RATE_EXEMPT = ("/auth/user", "/auth/config")  # cheap reads every page load makes


async def auth_rate_limit(request: Request) -> None:
    """Per client IP on /auth/*: slows down anyone hammering sign-in."""
    if request.url.path in AUTH_RATE_EXEMPT:
        return
    state = request.app.state
    ip = request.client.host if request.client else "unknown"
    await state.limiter.hit("auth", ip, state.settings.rate_limit_auth_per_min, 60)


def require(need: Need) -> Callable[[Request], Awaitable[Identity]]:
    async def dependency(request: Request) -> Identity:
        auth = request.app.state.auth
        identity: Identity | None = await auth.identify(request)
        if identity is None:
            raise Unauthorized("sign in or send an API key")
        try:
            auth.authorize(request, identity, need)
        except Forbidden as exc:  # a refused attempt at an audited action is recorded too
            audited = action_for(request.method, request.url.path)
            if audited:
                await request.app.state.audit.record(
                    request,
                    action=audited[0],
                    actor=actor_of(identity),
                    status=exc.status,
                    target=audited[1],
                )
            raise
        return identity

    return dependency


SessionUser = Annotated[Identity, Depends(require(SESSION))]
Reader = Annotated[Identity, Depends(require(scopes_need("read")))]
Admin = Annotated[Identity, Depends(require(ADMIN))]


@asynccontextmanager
async def audited(
    request: Request, action: str, actor: dict[str, Any], target: str | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Record ``action`` with the status the caller gets: the body sets ``status`` (and
    ``details``, ``target``) in the yielded dict; an AppError records its own status."""
    result: dict[str, Any] = {"status": 200, "target": target}
    try:
        yield result
    except AppError as exc:
        await request.app.state.audit.record(
            request, action=action, actor=actor, status=exc.status, target=result["target"]
        )
        raise
    await request.app.state.audit.record(
        request,
        action=action,
        actor=actor,
        status=result["status"],
        target=result["target"],
        details=result.get("details"),
    )


auth_router = APIRouter(prefix="/auth", tags=["auth"], dependencies=[Depends(auth_rate_limit)])
api_router = APIRouter(prefix="/api", tags=["gateway"])


# sign-in
def _set_session_cookie(request: Request, response: Response, value: str) -> None:
    settings = request.app.state.settings
    secure = settings.cookie_secure
    if secure is None:
        secure = request.url.scheme == "https"
    response.set_cookie(
        settings.session_cookie,
        value,
        max_age=settings.session_ttl_s,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


async def _start_session(
    request: Request, *, provider: str, subject: str, email: str, name: str, picture: str | None
) -> tuple[UserOut, str]:
    state = request.app.state
    user = await asyncio.to_thread(
        state.store.upsert_user,
        provider=provider,
        subject=subject,
        email=email,
        name=name,
        picture=picture,
    )
    # A fresh session id at every sign-in; the one the browser held before ends now.
    await state.sessions.destroy(request.cookies.get(state.settings.session_cookie))
    cookie = await state.sessions.create(new_record(user["_id"], user["email"], name, picture))
    role = role_of(user.get("role"))
    state.auth.forget_user(user["_id"])
    log.info("auth.signed_in", user_id=user["_id"], provider=provider, role=role)
    identity = Identity(user_id=user["_id"], email=user["email"], role=role)
    await state.audit.record(
        request,
        action="auth.signed_in",
        actor=actor_of(identity),
        status=200,
        target=user["_id"],
        details={"provider": provider},
    )
    out = UserOut(id=user["_id"], email=user["email"], name=name, picture=picture, role=role)
    return out, cookie


@auth_router.get("/config", response_model=AuthConfig)
async def auth_config(request: Request) -> AuthConfig:
    state = request.app.state
    return AuthConfig(dev_login=state.settings.dev_login, providers=state.oidc.providers)


@auth_router.get("/google")
async def auth_google(request: Request) -> Response:
    response: Response = await request.app.state.oidc.start(request)
    return response


@auth_router.get("/google/callback", name="auth_google_callback")
async def auth_google_callback(request: Request) -> Response:
    try:
        profile = await request.app.state.oidc.finish(request)
    except Forbidden as exc:  # not on the allowlist, unverified email: on the record
        await request.app.state.audit.record(
            request,
            action="auth.signed_in",
            actor=actor_of(
                None, exc.details.get("email") if isinstance(exc.details, dict) else None
            ),
            status=exc.status,
            details={"reason": exc.code},
        )
        raise
    _, cookie = await _start_session(
        request,
        provider=profile.issuer,
        subject=profile.subject,
        email=profile.email,
        name=profile.name,
        picture=profile.picture,
    )
    response = RedirectResponse(request.session.pop("next", "/"), status_code=302)
    _set_session_cookie(request, response, cookie)
    return response


def _email_in(details: Any) -> str | None:
    return details.get("email") if isinstance(details, dict) else None


@auth_router.post("/dev-login", response_model=UserOut, response_model_exclude_none=True)
async def dev_login(request: Request, body: DevLoginRequest | None = None) -> Response:
    state = request.app.state
    if not state.settings.dev_login:
        raise NotFound("development sign-in is off (AUTH_DEV_LOGIN=true turns it on)")
    if "origin" in request.headers or "referer" in request.headers:
        state.auth.check_origin(request)
    body = body or DevLoginRequest.model_validate({})
    user, cookie = await _start_session(
        request, provider="dev", subject=body.email, email=body.email, name=body.name, picture=None
    )
    response = JSONResponse(user.model_dump(by_alias=True, exclude_none=True))
    _set_session_cookie(request, response, cookie)
    return response


@auth_router.get("/user", response_model=UserOut, response_model_exclude_none=True)
async def auth_user(request: Request) -> UserOut:
    state = request.app.state
    record = await state.sessions.load(request.cookies.get(state.settings.session_cookie))
    if record is None:
        raise Unauthorized("not signed in")
    return UserOut(
        id=record.user_id,
        email=record.email,
        name=record.name,
        picture=record.picture,
        role=await state.auth.role(record.user_id),
    )


@auth_router.post("/logout", status_code=204)
async def logout(request: Request) -> Response:
    state = request.app.state
    cookie = request.cookies.get(state.settings.session_cookie)
    if cookie:
        state.auth.check_origin(request)
        await state.sessions.destroy(cookie)
        log.info("auth.signed_out")
    response = Response(status_code=204)
    response.delete_cookie(state.settings.session_cookie, path="/", httponly=True, samesite="lax")
    return response


# API keys
def _key_item(doc: dict[str, Any]) -> KeyItem:
    return KeyItem(
        id=doc["_id"],
        owner=doc.get("email"),
        name=doc["name"],
        scopes=doc["scopes"],
        prefix=doc["prefix"],
        created_at=doc["createdAt"],
        last_used_at=(
            datetime.fromtimestamp(doc["lastUsedMs"] / 1000, UTC) if "lastUsedMs" in doc else None
        ),
    )


@api_router.post("/keys", status_code=201, response_model=KeyCreated)
async def create_key(body: KeyCreate, user: SessionUser, request: Request) -> KeyCreated:
    async with audited(request, "key.created", actor_of(user)) as record:
        allowed = scopes_allowed_for(user.role)
        wider = [s for s in body.scopes if s not in allowed]
        if wider:
            raise Forbidden(
                f"the role '{user.role}' may not give a key the scopes {', '.join(wider)}",
                {"role": user.role, "allowed": list(allowed)},
                code="scope_beyond_role",
            )
        key = new_key()
        doc = await asyncio.to_thread(
            request.app.state.store.insert_key,
            user_id=user.user_id,
            email=user.email,
            name=body.name,
            scopes=list(body.scopes),
            key_hash=hash_key(key),
            prefix=display_prefix(key),
        )
        record.update(status=201, target=doc["_id"], details={"scopes": doc["scopes"]})
    log.info("api_key.created", key_id=doc["_id"], user_id=user.user_id, scopes=doc["scopes"])
    return KeyCreated(
        id=doc["_id"],
        name=doc["name"],
        scopes=doc["scopes"],
        key=key,
        prefix=doc["prefix"],
        created_at=doc["createdAt"],
    )


@api_router.get("/keys", response_model=KeyList)
async def list_keys(
    user: SessionUser, request: Request, everyone: Annotated[bool, Query(alias="all")] = False
) -> KeyList:
    """Your own keys; an admin may ask for everyone's (``?all=true``)."""
    if everyone and not user.is_admin:
        raise Forbidden("only an admin sees everyone's keys", code="admin_only")
    owner = None if everyone else user.user_id
    docs = await asyncio.to_thread(request.app.state.store.list_keys, owner)
    return KeyList(items=[_key_item(d) for d in docs])


@api_router.delete("/keys/{key_id}", status_code=204)
async def revoke_key(key_id: str, user: SessionUser, request: Request) -> Response:
    state = request.app.state
    async with audited(request, "key.revoked", actor_of(user), key_id) as record:
        owner = None if user.is_admin else user.user_id  # an admin revokes anyone's
        if not await asyncio.to_thread(state.store.revoke_key, owner, key_id):
            raise NotFound(f"no API key {key_id}")
        record["status"] = 204
    state.auth.forget_key(key_id)
    log.info("api_key.revoked", key_id=key_id, user_id=user.user_id)
    return Response(status_code=204)


# users and roles (admin)
def _user_item(doc: dict[str, Any]) -> UserItem:
    return UserItem(
        id=doc["_id"],
        email=doc.get("email", ""),
        name=doc.get("name", ""),
        role=role_of(doc.get("role")),
        created_at=doc.get("createdAt"),
        last_login_at=doc.get("lastLoginAt"),
    )


@api_router.get("/users", response_model=UserList)
async def list_users(_: Admin, request: Request) -> UserList:
    store = request.app.state.store
    docs = await asyncio.to_thread(store.list_users)
    grants = await asyncio.to_thread(store.list_grants)
    return UserList(
        items=[_user_item(d) for d in docs],
        grants=[RoleGrant(email=g["email"], role=g["role"]) for g in grants],
    )


@api_router.patch("/users/{user_id}", response_model=UserItem)
async def change_role(user_id: str, body: RoleChange, admin: Admin, request: Request) -> UserItem:
    state = request.app.state
    async with audited(request, "user.role_changed", actor_of(admin), user_id) as record:
        current = await asyncio.to_thread(state.store.get_user, user_id)
        if current is None:
            raise NotFound(f"no user {user_id}")
        before = role_of(current.get("role"))
        demoting = before == "admin" and body.role != "admin"
        if demoting and await asyncio.to_thread(state.store.count_admins) <= 1:
            raise Conflict(
                "this is the last admin: make someone else admin first",
                code="last_admin",
            )
        doc = await asyncio.to_thread(state.store.set_role, user_id, body.role)
        assert doc is not None
        record["details"] = {"from": before, "to": body.role}
    state.auth.forget_user(user_id)
    log.info("user.role_changed", user_id=user_id, role=body.role, by=admin.user_id)
    return _user_item(doc)


@api_router.post("/users/grants", response_model=RoleGrant)
async def grant_role(body: RoleGrant, admin: Admin, request: Request) -> RoleGrant:
    """Give a role to an email before (or after) its first sign-in."""
    store = request.app.state.store
    async with audited(request, "user.role_granted", actor_of(admin), body.email) as record:
        await asyncio.to_thread(store.grant_role, str(body.email), body.role)
        record["details"] = {"role": body.role}
    for doc in await asyncio.to_thread(store.list_users):
        if doc.get("email") == str(body.email).lower():
            request.app.state.auth.forget_user(doc["_id"])
    return body


# audit log (admin; read only: no route updates or deletes an entry)
def _audit_entry(doc: dict[str, Any]) -> AuditEntry:
    return AuditEntry.model_validate(
        {
            **doc,
            "id": doc["_id"],
            "at": datetime.fromtimestamp(doc["atMs"] / 1000, UTC),
            "trace_id": doc.get("traceId"),
        }
    )


@api_router.get("/audit", response_model=AuditPage)
async def audit_log(
    _: Admin,
    request: Request,
    action: str | None = None,
    actor: Annotated[str | None, Query(description="user id or email")] = None,
    target: str | None = None,
    outcome: Annotated[str | None, Query(pattern="^(ok|refused|rejected|failed)$")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: Annotated[int | None, Query(ge=0, description="atMs of the last entry seen")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    filters: dict[str, Any] = {}
    if action:
        filters["action"] = action
    if actor:
        filters["actor.email" if "@" in actor else "actor.userId"] = (
            actor.lower() if "@" in actor else actor
        )
    if target:
        filters["target"] = target
    if outcome:
        filters["outcome"] = outcome
    at: dict[str, int] = {}
    if since is not None:
        at["$gte"] = _ms(since)
    if until is not None:
        at["$lt"] = _ms(until)
    if before is not None:
        at["$lt"] = min(at.get("$lt", before), before)
    if at:
        filters["atMs"] = at
    docs = await asyncio.to_thread(request.app.state.store.find_audit, filters, limit + 1)
    more = len(docs) > limit
    docs = docs[:limit]
    return AuditPage(
        items=[_audit_entry(d) for d in docs],
        next_before=docs[-1]["atMs"] if more and docs else None,
    )


def _ms(when: datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


# stream admin
@api_router.get("/admin/streams", response_model=StreamsOverview)
async def streams(reader: Reader, request: Request) -> dict[str, Any]:
    state = request.app.state
    layout = state.settings.stream_layout()
    rows = await asyncio.to_thread(partitioned_overview, state.sync_redis, ALL_STREAMS, layout)
    if not reader.is_admin:  # consumer names carry host names and pids: admins only
        for row in rows:
            for part in (row, *row["partitions"]):
                for group in part["groups"]:
                    for n, consumer in enumerate(group["consumers"], start=1):
                        consumer["name"] = f"consumer-{n}"
    return {"streams": rows}


@api_router.post("/admin/streams/{stream}/dlq/replay", response_model=ReplayResult)
async def replay(
    stream: str,
    admin: Admin,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> ReplayResult:
    async with audited(request, "dlq.replayed", actor_of(admin), stream) as record:
        if stream not in ALL_STREAMS:
            raise NotFound(f"no stream {stream}", {"streams": list(ALL_STREAMS)})
        state = request.app.state
        layout = state.settings.stream_layout()
        moved = await asyncio.to_thread(
            replay_partitions, state.sync_redis, stream, layout, limit=limit
        )
        record["details"] = {"replayed": moved, "limit": limit}
    log.info("admin.dlq_replayed", stream=stream, replayed=moved, user_id=admin.user_id)
    return ReplayResult(replayed=moved)


# docs
@api_router.get("/openapi.json", include_in_schema=False)
async def merged_openapi(_: Reader, request: Request) -> JSONResponse:
    state = request.app.state
    docs, missing = await fetch_service_docs(
        state.http, state.settings.upstreams, state.settings.internal_token
    )
    return JSONResponse(merge_openapi(request.app.openapi(), docs, missing))


@api_router.get("/docs", include_in_schema=False)
async def swagger(_: Reader) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/api/openapi.json", title="Mini CRM API")


# the gateway's own OpenAPI, docs and metrics: never open to anyone
meta_router = APIRouter(include_in_schema=False)


@meta_router.get("/docs")
@meta_router.get("/redoc")
async def docs_redirect(_: Reader) -> RedirectResponse:
    return RedirectResponse("/api/docs", status_code=307)


@meta_router.get("/openapi.json")
async def openapi_redirect(_: Reader) -> RedirectResponse:
    return RedirectResponse("/api/openapi.json", status_code=307)


@meta_router.get("/metrics")
async def gateway_metrics(request: Request) -> Response:
    """For Prometheus with the internal token (``Authorization: Bearer <INTERNAL_TOKEN>``
    or ``X-Internal-Token``), or for a signed-in admin."""
    token = request.app.state.settings.internal_token
    sent = request.headers.get("x-internal-token") or ""
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and not bearer.startswith("mcrm_"):
        sent = bearer.strip()
    if not (sent and secrets.compare_digest(sent.encode(), token.encode())):
        await require(ADMIN)(request)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
