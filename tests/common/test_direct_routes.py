"""Direct routes answer exactly as the framework would: the same endpoint served both
ways, with the token check, error bodies, trace header and metrics compared."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.testclient import TestClient
from redis.exceptions import ConnectionError as RedisConnectionError

from libs.common.errors import NotFound, ValidationFailed
from libs.common.web import create_service_app

TOKEN = "t0ken"


async def endpoint(request: Request) -> Response:
    body = await request.body()
    outcome = request.headers.get("x-outcome", "ok")
    if outcome == "invalid":
        raise ValidationFailed("no valid thing", [{"field": "name", "message": "required"}])
    if outcome == "missing":
        raise NotFound("no such thing")
    if outcome == "redis-down":
        raise RedisConnectionError("Connection refused")
    if outcome == "bug":
        raise RuntimeError("boom")
    return Response(b'{"echo":' + body + b"}", status_code=202, media_type="application/json")


def make_client(direct: bool) -> TestClient:
    router = APIRouter(prefix="/api")
    router.add_api_route("/things", endpoint, methods=["POST"], status_code=202)
    app = create_service_app(
        service="direct-test",
        internal_token=TOKEN,
        routers=[router],
        readiness={},
        direct_routes=[("POST", "/api/things")] if direct else (),
    )
    return TestClient(app, raise_server_exceptions=False)


def answer(client: TestClient, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    response = client.post("/api/things", content=b"[1,2]", headers=headers)
    kept = {k: v for k, v in response.headers.items() if k in ("content-type", "retry-after")}
    return response.status_code, response.content, kept


@pytest.mark.parametrize("outcome", ["ok", "invalid", "missing", "redis-down", "bug"])
def test_the_direct_route_answers_as_the_framework_route_does(outcome):
    headers = {"x-internal-token": TOKEN, "x-outcome": outcome}
    framework, direct = answer(make_client(False), **headers), answer(make_client(True), **headers)
    assert direct == framework
    assert (
        direct[0]
        == {"ok": 202, "invalid": 422, "missing": 404, "redis-down": 503, "bug": 500}[outcome]
    )


@pytest.mark.parametrize("token", [None, "wrong"])
def test_the_direct_route_checks_the_internal_token(token):
    headers = {"x-internal-token": token} if token else {}
    framework, direct = answer(make_client(False), **headers), answer(make_client(True), **headers)
    assert direct == framework
    assert direct[0] == 403


def test_the_direct_route_echoes_the_trace_id_and_is_counted_under_its_template():
    client = make_client(True)
    response = client.post(
        "/api/things", content=b"1", headers={"x-internal-token": TOKEN, "x-trace-id": "abc123"}
    )
    assert response.headers["x-trace-id"] == "abc123"
    metrics = client.get("/metrics").text
    assert 'method="POST",route="/api/things",service="direct-test",status="202"' in metrics


def test_other_routes_and_methods_still_go_through_the_framework():
    client = make_client(True)
    assert client.get("/api/things", headers={"x-internal-token": TOKEN}).status_code == 405
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "path, refusal", [("/with-params", "takes the Request only"), ("/absent", "no route")]
)
def test_a_direct_route_must_exist_and_take_the_request_only(path, refusal):
    router = APIRouter()

    @router.post("/with-params")
    async def with_params(request: Request, limit: int = 1) -> Response:
        return Response()

    with pytest.raises(ValueError, match=refusal):
        create_service_app(
            service="t",
            internal_token=None,
            routers=[router],
            readiness={},
            direct_routes=[("POST", path)],
        )


def test_the_direct_route_is_answered_ahead_of_the_framework_middleware():
    client = make_client(True)
    seen: list[str] = []

    @client.app.middleware("http")  # type: ignore[attr-defined]
    async def record(request: Request, call_next):  # type: ignore[no-untyped-def]
        seen.append(request.url.path)
        return await call_next(request)

    headers = {"x-internal-token": TOKEN}
    assert client.post("/api/things", content=b"1", headers=headers).status_code == 202
    assert client.get("/healthz").status_code == 200
    assert seen == ["/healthz"]
