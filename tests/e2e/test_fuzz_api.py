"""Schemathesis against the gateway's merged OpenAPI: no 5xx, responses match schemas.

Every operation gets a bounded number of generated requests (CI stays fast),
authenticated with an API key holding every scope, or with a session for the routes
only people may use. (Schemathesis's pytest plugin does not load under this pytest
version, so the test drives its Hypothesis strategies directly.)"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 6
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
SESSION_ONLY = ("/api/keys", "/api/admin/streams/{stream}/dlq")


def _headers(path: str, key: str, client, url: str) -> dict[str, str]:
    if path.startswith(SESSION_ONLY):
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        return {"Origin": url, "Cookie": cookie}
    return {"Authorization": f"Bearer {key}"}


def test_no_server_errors_and_responses_match_their_schema(stack: RunningStack):
    client = stack.client()
    created = client.post(
        "/api/keys", json={"name": "fuzz", "scopes": ["ingest", "read", "campaigns"]}
    )
    created.raise_for_status()
    key = created.json()["key"]
    spec = client.get("/api/openapi.json").json()
    schema = schemathesis.openapi.from_dict(spec)
    failures: list[str] = []
    exercised = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("/events"):
            continue  # server-sent event streams do not end; covered by the SSE tests

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def exercise(case) -> None:
            headers = _headers(case.operation.path, key, client, stack.url)
            response = case.call(base_url=stack.url, headers=headers, timeout=30)
            label = f"{case.method} {case.formatted_path}"
            if response.status_code >= 500:
                failures.append(f"{label}: {response.status_code} {response.text[:300]}")
                return
            try:
                case.validate_response(response, checks=CHECKS)
            except BaseException as exc:  # noqa: BLE001 - a group of check failures
                failures.append(f"{label}: {str(exc)[:400]}")

        exercise()
        exercised += 1
    assert exercised >= 20, "the merged OpenAPI should cover every service"
    assert not failures, "\n".join(sorted(set(failures))[:40])
