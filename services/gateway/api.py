"""HTTP routes of the gateway itself: sign-in, API keys, stream admin, merged docs.
Everything else under /api is proxied (services/gateway/proxy.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from libs.common.errors import NotFound, Unauthorized
from libs.common.logging import get_logger
from libs.common.streams import ALL_STREAMS, partitioned_overview, replay_partitions
from services.gateway.access import Access, Identity
from services.gateway.docs import fetch_service_docs, merge_openapi
from services.gateway.keys import display_prefix, hash_key, new_key
from services.gateway.models import (
    AuthConfig,
    DevLoginRequest,
    KeyCreate,
    KeyCreated,
    KeyItem,
    KeyList,
    ReplayResult,
    StreamsOverview,
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


def require(access: Access) -> Callable[[Request], Awaitable[Identity]]:
    async def dependency(request: Request) -> Identity:
        identity: Identity | None = await request.app.state.auth.require(request, access)
        assert identity is not None  # only "public" yields none
        return identity

    return dependency


SessionUser = Annotated[Identity, Depends(require("session"))]
Reader = Annotated[Identity, Depends(require("read"))]

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
    log.info("auth.signed_in", user_id=user["_id"], provider=provider)
    return UserOut(id=user["_id"], email=user["email"], name=name, picture=picture), cookie


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
    profile = await request.app.state.oidc.finish(request)
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
    return UserOut(id=record.user_id, email=record.email, name=record.name, picture=record.picture)


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
async def list_keys(user: SessionUser, request: Request) -> KeyList:
    docs = await asyncio.to_thread(request.app.state.store.list_keys, user.user_id)
    return KeyList(items=[_key_item(d) for d in docs])


@api_router.delete("/keys/{key_id}", status_code=204)
async def revoke_key(key_id: str, user: SessionUser, request: Request) -> Response:
    state = request.app.state
    if not await asyncio.to_thread(state.store.revoke_key, user.user_id, key_id):
        raise NotFound(f"no API key {key_id}")
    state.auth.forget_key(key_id)
    log.info("api_key.revoked", key_id=key_id, user_id=user.user_id)
    return Response(status_code=204)


# stream admin
@api_router.get("/admin/streams", response_model=StreamsOverview)
async def streams(_: Reader, request: Request) -> dict[str, Any]:
    state = request.app.state
    layout = state.settings.stream_layout()
    rows = await asyncio.to_thread(partitioned_overview, state.sync_redis, ALL_STREAMS, layout)
    return {"streams": rows}


@api_router.post("/admin/streams/{stream}/dlq/replay", response_model=ReplayResult)
async def replay(
    stream: str,
    user: SessionUser,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> ReplayResult:
    if stream not in ALL_STREAMS:
        raise NotFound(f"no stream {stream}", {"streams": list(ALL_STREAMS)})
    state = request.app.state
    layout = state.settings.stream_layout()
    moved = await asyncio.to_thread(
        replay_partitions, state.sync_redis, stream, layout, limit=limit
    )
    log.info("admin.dlq_replayed", stream=stream, replayed=moved, user_id=user.user_id)
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
