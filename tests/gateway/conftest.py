"""Gateway test fixtures: the app in-process, a real upstream service on a free port,
and helpers to sign in."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.testclient import TestClient

from libs.common.testing.servers import free_port
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings

ORIGIN = "http://testserver"


class FakeUpstream:
    """A tiny real service: echoes what reached it, streams events on demand, dawdles."""

    def __init__(self) -> None:
        self.port = free_port()
        self.release = threading.Event()
        self.streams_ended: list[str] = []
        self.app = self._build()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/openapi-probe")
        async def probe() -> dict[str, str]:
            return {"ok": "yes"}

        @app.get("/api/campaigns/{cid}/events")
        async def events(cid: str) -> StreamingResponse:
            async def stream() -> Any:
                first = {"campaign": cid, "n": 1}
                try:
                    yield f"event: stats\ndata: {json.dumps(first)}\n\n".encode()
                    released = await asyncio.to_thread(self.release.wait, 10)
                    second = {"n": 2, "released": released}
                    yield f"event: stats\ndata: {json.dumps(second)}\n\n".encode()
                finally:
                    self.streams_ended.append(cid)

            return StreamingResponse(stream(), media_type="text/event-stream")

        @app.get("/api/ai/slow")
        async def slow() -> dict[str, str]:
            await asyncio.sleep(3)
            return {"late": "yes"}

        @app.api_route(
            "/{path:path}",
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            include_in_schema=False,
        )
        async def echo(path: str, request: Request) -> JSONResponse:
            body = await request.body()
            return JSONResponse(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "query": request.url.query,
                    "headers": {k: v for k, v in request.headers.items()},
                    "bodyLength": len(body),
                    "bodySha256": hashlib.sha256(body).hexdigest(),
                },
                status_code=202 if request.method == "POST" else 200,
                headers={"x-upstream": "fake"},
            )

        return app

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("fake upstream did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.release.set()
        self.server.should_exit = True
        self.thread.join(5)


@pytest.fixture(scope="session")
def upstream() -> Iterator[FakeUpstream]:
    server = FakeUpstream()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_settings(clean_env: Any, upstream: FakeUpstream) -> Callable[..., GatewaySettings]:
    def build(**overrides: Any) -> GatewaySettings:
        values: dict[str, Any] = {
            "redis_url": clean_env.redis_url,
            "mongodb_uri": clean_env.mongo_uri,
            "db_prefix": clean_env.db_prefix,
            "internal_token": clean_env.internal_token,
            "log_level": "WARNING",
            "dev_login": True,
            "ingest_url": upstream.url,
            "campaign_url": upstream.url,
            "delivery_url": upstream.url,
            "ai_url": upstream.url,
        }
        values.update(overrides)
        return GatewaySettings(**values)

    return build


@pytest.fixture
def make_client(
    make_settings: Callable[..., GatewaySettings],
) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        client = TestClient(create_app(make_settings(**overrides)), base_url=ORIGIN)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def sign_in(client: TestClient, email: str = "ann@example.com") -> dict[str, Any]:
    response = client.post(
        "/auth/dev-login", json={"email": email, "name": "Ann"}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 200, response.text
    return response.json()


def create_key(client: TestClient, scopes: list[str], name: str = "k") -> str:
    response = client.post(
        "/api/keys", json={"name": name, "scopes": scopes}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


@pytest.fixture(name="sign_in")
def sign_in_fixture() -> Callable[..., dict[str, Any]]:
    return sign_in


@pytest.fixture(name="create_key")
def create_key_fixture() -> Callable[..., str]:
    return create_key


class Team:
    """One signed-in client per role (admin signed in first, so the installation's admin),
    all on one gateway configuration with no role caching."""

    def __init__(self, make_client: Callable[..., TestClient], **overrides: Any) -> None:
        overrides.setdefault("api_key_cache_s", 0)
        self.clients: dict[str, TestClient] = {}
        self.users: dict[str, dict[str, Any]] = {}
        for role in ("admin", "marketer", "viewer"):
            client = make_client(**overrides)
            self.users[role] = sign_in(client, f"{role}@example.com")
            self.clients[role] = client
        self.machine = make_client(**overrides)  # no session: for API keys
        promoted = self.admin.patch(
            f"/api/users/{self.users['marketer']['id']}",
            json={"role": "marketer"},
            headers={"Origin": ORIGIN},
        )
        assert promoted.status_code == 200, promoted.text

    @property
    def admin(self) -> TestClient:
        return self.clients["admin"]

    def key(self, role: str, scopes: list[str]) -> str:
        return create_key(self.clients[role], scopes, name=f"{role}-{'-'.join(scopes)}")

    def with_key(self, key: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
        return self.machine.request(method, path, headers=headers, **kwargs)


@pytest.fixture
def make_team(make_client: Callable[..., TestClient]) -> Callable[..., Team]:
    return lambda **overrides: Team(make_client, **overrides)


@pytest.fixture
def team(make_team: Callable[..., Team]) -> Team:
    return make_team()
