"""Shared FastAPI helpers: readiness follows Redis and the DB; errors and the token."""

from __future__ import annotations

import httpx
import pytest

from libs.common.testing.pytest_plugin import wait_until
from libs.common.testing.servers import free_port, local_mongo, local_redis

pytestmark = pytest.mark.integration


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def test_readyz_fails_while_redis_or_the_db_is_down_and_recovers(tmp_path, spawn):
    redis_port, mongo_port = free_port(), free_port()
    env = {
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "MONGODB_URI": f"mongodb://127.0.0.1:{mongo_port}",
        "LOG_LEVEL": "WARNING",
    }
    with local_redis(tmp_path / "r", redis_port), local_mongo(tmp_path / "m", mongo_port):
        app = spawn("ready", env=env, app="tests.support.ready_app:create_app")
        ready = f"{app.url}/readyz"
        assert _status(ready) == 200
    # both servers stopped
    wait_until(lambda: _status(ready) == 503, timeout=15)
    body = httpx.get(ready, timeout=10).json()
    assert body["checks"] == {"redis": False, "mongodb": False}
    assert _status(f"{app.url}/healthz") == 200, "liveness does not depend on dependencies"
    with local_redis(tmp_path / "r2", redis_port):
        wait_until(lambda: httpx.get(ready, timeout=10).json()["checks"]["redis"], timeout=20)
        assert _status(ready) == 503, "still not ready while the DB is down"
        with local_mongo(tmp_path / "m2", mongo_port):
            wait_until(lambda: _status(ready) == 200, timeout=30)


def test_routes_require_the_internal_token_and_errors_have_one_shape(clean_env, spawn):
    app = spawn("ready", env=clean_env.env(), app="tests.support.ready_app:create_app")
    denied = httpx.get(f"{app.url}/api/echo")
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "forbidden"
    allowed = httpx.get(
        f"{app.url}/api/echo", headers={"X-Internal-Token": clean_env.internal_token}
    )
    assert allowed.status_code == 200
    assert allowed.headers["x-trace-id"]
    missing = httpx.get(f"{app.url}/nope")
    assert missing.status_code == 404
    metrics = httpx.get(f"{app.url}/metrics").text
    assert "crm_http_requests_total" in metrics


def test_a_store_outage_answers_503_with_retry_after_not_500():
    from fastapi import APIRouter
    from fastapi.testclient import TestClient
    from redis.exceptions import ConnectionError as RedisConnectionError

    from libs.common.web import create_service_app

    router = APIRouter()

    @router.get("/api/flaky")
    async def flaky() -> None:
        raise RedisConnectionError("Connection refused")

    app = create_service_app(service="t", internal_token=None, routers=[router], readiness={})
    response = TestClient(app).get("/api/flaky")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.json()["error"]["code"] == "dependency_unavailable"
