"""Issue 27 items 5, 6 and 14: what the assistant says reads as a marketer would say it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from libs.common.rules import parse_rules
from services.ai.lookalike import find_lookalikes
from services.ai.rule_words import rules_in_words
from services.ai.suggestions import TONES, suggest_messages
from services.ai.summary import AccountRates, _duration, campaign_metrics, summarise
from services.ai.tagging import tag_campaign
from services.ai.timing import recommend
from tests.ai.test_ai_logic import realistic_customers

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
CODE = re.compile(r"\[|\]|'|\b(?:in|>=|<=|!=)\b\s*[\['\d]|totalSpends|inactive_days|customerIds")


def test_rules_read_as_words_not_code() -> None:
    rules = parse_rules(
        {
            "operator": "AND",
            "conditions": [
                {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
                {
                    "operator": "OR",
                    "conditions": [
                        {"field": "totalSpends", "operator": ">", "value": 5000},
                        {"field": "lastVisit", "operator": "inactive_days", "value": 60},
                        {"field": "tags", "operator": "contains", "value": "vip"},
                    ],
                },
            ],
        }
    )
    assert rules_in_words(rules) == (
        "city is Mumbai or Pune and (total spend over 5,000 or no last visit in the last "
        "60 days or tagged vip)"
    )


def test_suggestion_rationales_have_no_rule_syntax() -> None:
    rules = {"conditions": [{"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]}]}
    for suggestion in suggest_messages("diwali sale", 300, rules=rules):
        assert not CODE.search(suggestion["rationale"]), suggestion["rationale"]
        assert "city is Mumbai or Pune" in suggestion["rationale"]


@pytest.mark.parametrize("tone", TONES)
def test_a_chosen_tone_is_the_only_tone(tone: str) -> None:
    suggestions = suggest_messages("festive sale", 1000, tone=tone.upper())
    assert len(suggestions) >= 2
    assert {s["tone"] for s in suggestions} == {tone}
    assert len({s["message"] for s in suggestions}) == len(suggestions)


def test_no_tone_still_offers_every_tone() -> None:
    assert {s["tone"] for s in suggest_messages("festive sale")} == set(TONES)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1, "1 second"), (0.4, "1 second"), (2, "2 seconds"), (60, "60 seconds"),
     (90, "2 minutes"), (60 * 60, "60 minutes"), (3600 * 1.0, "60 minutes"),
     (5400, "1.5 hours"), (3600 * 24, "24.0 hours")],
)  # fmt: skip
def test_durations_agree_in_number(seconds: float, text: str) -> None:
    assert _duration(seconds) == text


def _messages(delivered: int, failed: dict[str, int]) -> list[dict[str, Any]]:
    rows = [{"status": "DELIVERED", "sent_at": NOW, "final_at": NOW} for _ in range(delivered)]
    for reason, n in failed.items():
        rows += [{"status": "FAILED", "reason": reason, "final_at": NOW} for _ in range(n)]
    return rows


def test_summary_mentions_spam_rejections_and_says_one_second() -> None:
    campaign = {"name": "Dec", "started_at": NOW, "completed_at": NOW + timedelta(seconds=1)}
    failures = {"rejected as spam": 5, "mailbox full": 3, "invalid address": 4}
    metrics = campaign_metrics(campaign, _messages(188, failures))
    text, highlights, _ = summarise("x", campaign, metrics, AccountRates({"a": (95, 100)}, []))
    assert "Nothing unusual" not in text
    assert "5 messages were rejected as spam" in text
    assert "completed in 1 second" in highlights
    assert not any("1 seconds" in h for h in highlights)


def test_auto_tags_read_the_message_sensibly() -> None:
    invite = (
        "Dear {name}, as one of our valued customers you are invited to preview our new "
        "collection before it opens to everyone."
    )
    assert "feedback" not in tag_campaign("New arrivals", None, invite)
    assert "new-arrivals" in tag_campaign("New arrivals", None, invite)
    assert tag_campaign("December", None, "December collection is live") == ["new-arrivals"]
    assert "feedback" in tag_campaign("Survey", None, "Leave a review of your last order")


def test_send_time_advice_labels_its_number_and_says_what_local_time_means() -> None:
    wednesday_10_ist = datetime(2026, 1, 14, 4, 30, tzinfo=UTC)  # 10:00 in Kolkata
    wednesday_10_london = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
    deliveries = [(f"k{i}", wednesday_10_ist) for i in range(30)]
    deliveries += [(f"l{i}", wednesday_10_london) for i in range(10)]
    orders = [(f"k{i}", datetime(2026, 1, 10, 15, 0, tzinfo=UTC)) for i in range(20)]
    zones = {f"k{i}": "Asia/Kolkata" for i in range(30)} | {
        f"l{i}": "Europe/London" for i in range(10)
    }
    top = recommend(deliveries, orders, zones, min_events=50)["recommendations"][0]
    assert top["label"] == "Wednesday 10:00 in each customer's own time zone"
    assert top["evidenceLabel"] == "40 engagement events at this hour"
    assert top["scheduleZone"] == "Asia/Kolkata" and top["scheduleShare"] == 0.75
    assert [z["timezone"] for z in top["zones"]] == ["Asia/Kolkata", "Europe/London"]
    single = recommend(deliveries[:30], orders, zones, min_events=50)["recommendations"][0]
    assert single["label"] == "Wednesday 10:00 in Asia/Kolkata"


def test_lookalike_explanation_has_no_internal_words_or_contradicting_counts() -> None:
    docs = realistic_customers(300)
    for doc in docs[:20]:
        doc["tags"] = ["vip"]
    base = parse_rules({"conditions": [{"field": "tags", "operator": "contains", "value": "vip"}]})
    text = find_lookalikes(docs, base, NOW, size=10)["explanation"]
    for internal in ("negated", "customerIds", "base", "standardised"):
        assert internal not in text, text
    assert "10 customers most like your audience of 20" in text
    spend = parse_rules({"conditions": [{"field": "totalSpends", "operator": ">", "value": 8000}]})
    text = find_lookalikes(docs, spend, NOW, size=10)["explanation"]
    assert "leave out everyone already in your audience" in text
