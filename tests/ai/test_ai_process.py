"""The AI API as a real process: the factory starts, routes need the gateway's token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


def test_api_process_answers_through_the_internal_token_only(
    clean_env: Any, spawn: Callable[..., Any]
) -> None:
    api = spawn("ai-api", env=clean_env.env(OPENAI_API_KEY=""), app="services.ai.app:create_app")
    body = {"description": "haven't visited in 60 days and spent over ₹10,000"}
    url = f"{api.url}/api/ai/segment-from-text"

    assert httpx.post(url, json=body, timeout=10).status_code == 403
    response = httpx.post(
        url, json=body, headers={"x-internal-token": clean_env.internal_token}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.json()["source"] == "fallback"
    assert {c["field"] for c in response.json()["rules"]["conditions"]} == {
        "lastVisit",
        "totalSpends",
    }
