"""The LLM path against a local OpenAI-compatible server: valid answers are used, and
invalid JSON, schema mismatches, timeouts and 500s fall back without a 5xx."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from ai_fakes import FakeLlm, Reply
from fastapi.testclient import TestClient

from libs.common.events import Receipt
from services.ai.store import AiStore

pytestmark = pytest.mark.integration

GOOD_RULES = {
    "rules": {
        "operator": "AND",
        "conditions": [{"field": "totalSpends", "operator": ">", "value": "10000"}],
    },
    "explanation": "Customers who spent more than 10,000.",
}
DESCRIPTION = {"description": "customers who spent over 10k"}


@pytest.fixture
def client(llm: FakeLlm, make_ai_client: Callable[..., TestClient]) -> TestClient:
    return make_ai_client(OPENAI_API_KEY="test-key", OPENAI_BASE_URL=llm.url, AI_LLM_TIMEOUT_S=0.5)


def reply_with(content: Any, status: int = 200, delay_s: float = 0.0) -> Callable[..., Reply]:
    text = content if isinstance(content, str) else json.dumps(content)
    return lambda _body: Reply(text, status, delay_s)


def test_valid_llm_rules_are_used_and_normalised(llm: FakeLlm, client: TestClient) -> None:
    llm.reply = reply_with(GOOD_RULES)
    response = client.post("/api/ai/segment-from-text", json=DESCRIPTION)
    assert response.status_code == 200
    body = response.json()
    assert body["source"] == "llm"
    assert body["rules"]["conditions"][0]["value"] == 10000  # coerced by the rule validator
    assert body["explanation"] == GOOD_RULES["explanation"]
    request = llm.requests[-1]
    assert request["response_format"] == {"type": "json_object"}
    assert "spent over 10k" in request["messages"][-1]["content"]


@pytest.mark.parametrize(
    "reply",
    [
        reply_with("this is not json"),
        reply_with({"rules": {"operator": "AND"}}),  # schema mismatch: no explanation
        reply_with({**GOOD_RULES, "rules": {"conditions": [{"field": "$where", "value": 1}]}}),
        reply_with({**GOOD_RULES, "rules": {"operator": "AND", "conditions": []}}),
        reply_with({"error": "x"}, status=500),
        reply_with(GOOD_RULES, delay_s=2.0),  # past AI_LLM_TIMEOUT_S
    ],
    ids=["invalid-json", "schema-mismatch", "rules-refused", "empty-rules", "http-500", "timeout"],
)
def test_bad_llm_answers_fall_back_to_the_parser(
    llm: FakeLlm, client: TestClient, reply: Callable[..., Reply]
) -> None:
    llm.reply = reply
    response = client.post("/api/ai/segment-from-text", json=DESCRIPTION)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "fallback"
    assert body["rules"]["conditions"] == [
        {"field": "totalSpends", "operator": ">", "value": 10000}
    ]
    assert llm.requests, "the LLM was asked first"


def test_llm_failure_and_unparseable_text_is_a_422_not_a_5xx(
    llm: FakeLlm, client: TestClient
) -> None:
    llm.reply = reply_with("{}", status=500)
    response = client.post(
        "/api/ai/segment-from-text", json={"description": "people who like jazz"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_understood"
    assert "like jazz" in response.json()["error"]["details"][0]["unrecognised"]


def test_llm_suggestions_are_used_when_every_placeholder_is_valid(
    llm: FakeLlm, client: TestClient
) -> None:
    good = {
        "suggestions": [
            {"message": "Hi {firstName}!", "tone": "friendly", "rationale": "warm"},
            {"message": "Last day, {name}!", "tone": "urgent", "rationale": "deadline"},
            {"message": "Dear {name}, welcome back.", "tone": "premium", "rationale": "formal"},
        ]
    }
    llm.reply = reply_with(good)
    response = client.post("/api/ai/message-suggestions", json={"objective": "win back"})
    assert response.json()["source"] == "llm"
    assert [s["tone"] for s in response.json()["suggestions"]] == ["friendly", "urgent", "premium"]

    bad = {"suggestions": [{**s, "message": "Hi {user.__class__}"} for s in good["suggestions"]]}
    llm.reply = reply_with(bad)
    response = client.post("/api/ai/message-suggestions", json={"objective": "win back"})
    assert response.status_code == 200
    assert response.json()["source"] == "fallback"
    assert len(response.json()["suggestions"]) >= 3


def test_llm_tags_outside_the_vocabulary_fall_back(llm: FakeLlm, client: TestClient) -> None:
    llm.reply = reply_with({"tags": ["Festive", "made-up"]})
    body = client.post("/api/ai/campaign-tags", json={"message": "Happy Diwali!"}).json()
    assert body == {"tags": ["festive"], "source": "llm"}
    llm.reply = reply_with({"tags": ["made-up"]})
    body = client.post("/api/ai/campaign-tags", json={"message": "Happy Diwali! 20% off"}).json()
    assert body["source"] == "fallback" and "festive" in body["tags"]


def test_without_a_key_the_llm_is_never_called(
    llm: FakeLlm, make_ai_client: Callable[..., TestClient]
) -> None:
    client = make_ai_client(OPENAI_API_KEY="", OPENAI_BASE_URL=llm.url)
    llm.reply = reply_with(GOOD_RULES)
    body = client.post("/api/ai/segment-from-text", json=DESCRIPTION).json()
    assert body["source"] == "fallback"
    assert llm.requests == []


def test_llm_summary_text_is_used_with_the_read_model_metrics(
    llm: FakeLlm, client: TestClient, ai_store: AiStore
) -> None:
    ai_store.update_campaigns({"camp-1": {"name": "Spring", "status": "running"}})
    at = datetime.now(UTC)
    ai_store.append_receipts(
        [
            (
                None,
                [
                    Receipt(
                        message_id=f"camp-1:c{i}",
                        campaign_id="camp-1",
                        customer_id=f"c{i}",
                        vendor_message_id=f"v{i}",
                        status="DELIVERED" if i < 3 else "FAILED",
                        reason=None if i < 3 else "blocked",
                        at=at,
                    )
                    for i in range(4)
                ],
            )
        ]
    )
    llm.reply = reply_with({"summary": "Spring did fine.", "highlights": ["3 of 4 delivered"]})
    body = client.post("/api/ai/campaign-performance-summary", json={"campaignId": "camp-1"})
    assert body.json()["source"] == "llm"
    assert body.json()["summary"] == "Spring did fine."
    assert body.json()["metrics"]["deliveryRate"] == 0.75
    sent_to_llm = json.loads(llm.requests[-1]["messages"][-1]["content"])
    assert sent_to_llm["metrics"]["failuresByReason"] == {"blocked": 1}

    llm.reply = reply_with({"summary": ""})  # fails validation: the computed text is used
    body = client.post("/api/ai/campaign-performance-summary", json={"campaignId": "camp-1"})
    assert body.json()["source"] == "fallback"
    assert "3 of 4" in body.json()["summary"]


def test_invalid_audience_rules_for_suggestions_are_a_422(client: TestClient) -> None:
    response = client.post(
        "/api/ai/message-suggestions", json={"objective": "x", "rules": {"operator": "NOPE"}}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_rules"
