"""Pure AI logic: tags, message suggestions, lookalikes, timing, summaries."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from libs.common.errors import ValidationFailed
from libs.common.rules import matches, parse_rules
from libs.common.templates import parse_template
from services.ai.lookalike import find_lookalikes, negate
from services.ai.suggestions import suggest_messages
from services.ai.summary import AccountRates, campaign_metrics, summarise
from services.ai.tagging import TAGS, tag_campaign
from services.ai.timing import recommend

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


# -- tags ---------------------------------------------------------------------------------
def test_inactive_high_spenders_with_a_discount_are_win_back_high_value_promotion() -> None:
    rules = {
        "operator": "AND",
        "conditions": [
            {"field": "lastVisit", "operator": "inactive_days", "value": 120},
            {"field": "totalSpends", "operator": ">", "value": 20000},
        ],
    }
    tags = tag_campaign("Come back", rules, "We miss you {firstName}! 20% off this week.")
    assert {"win-back", "reactivation", "high-value", "promotion"} <= set(tags)
    assert "festive" not in tags


def test_festive_welcome_and_loyalty_words_are_recognised() -> None:
    assert "festive" in tag_campaign("Diwali sale", None, "Happy Diwali {name}")
    assert "new-customer" in tag_campaign(None, None, "Welcome {firstName}, enjoy your first order")
    assert "loyalty" in tag_campaign(None, None, "Thanks! Your reward points are waiting")


def test_tags_come_from_the_vocabulary_and_invalid_rules_are_ignored() -> None:
    tags = tag_campaign("x", {"operator": "XOR"}, "Hello {name}")
    assert set(tags) <= set(TAGS)


# -- message suggestions ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("objective", "word"),
    [
        ("bring back inactive users", "missed"),
        ("announce new arrivals", "arrivals"),
        ("festive sale for Diwali", "festive"),
        ("reward our loyal customers", "loyalty"),
        ("welcome new customers", "Welcome"),
        ("something generic", "special"),
    ],
)
def test_suggestions_are_tailored_valid_and_differ_in_tone(objective: str, word: str) -> None:
    suggestions = suggest_messages(objective, audience_size=1250)
    assert len(suggestions) >= 3
    assert len({s["tone"] for s in suggestions}) == len(suggestions)
    assert len({len(s["message"]) for s in suggestions}) > 1
    for suggestion in suggestions:
        parse_template(suggestion["message"])  # only valid placeholders
        assert suggestion["rationale"] and "1,250" in suggestion["rationale"]
    assert any(word.lower() in s["message"].lower() for s in suggestions)
    short = next(s for s in suggestions if s["tone"] == "short")
    assert len(short["message"]) <= 80


def test_requested_tone_comes_first_and_city_placeholder_only_when_pinned() -> None:
    rules = {"operator": "AND", "conditions": [{"field": "city", "operator": "=", "value": "Pune"}]}
    suggestions = suggest_messages("festive sale", tone="urgent", rules=rules)
    assert suggestions[0]["tone"] == "urgent"
    assert any("{city}" in s["message"] for s in suggestions)
    assert not any("{city}" in s["message"] for s in suggest_messages("festive sale"))


# -- lookalike -------------------------------------------------------------------------------
def realistic_customers(n: int = 400, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        orders = rng.choice([0, 1, 1, 2, 3, 5, 8, 13])
        aov = rng.uniform(300, 3000)
        visits = orders + rng.randint(0, 10)
        doc: dict[str, Any] = {
            "_id": f"c{i:04d}",
            "total_spends": round(orders * aov + rng.uniform(0, 500), 2),
            "order_total": round(orders * aov, 2),
            "order_count": orders,
            "visits": visits,
            "city": rng.choice(["Mumbai", "Pune", "Delhi"]),
        }
        if visits:
            doc["last_visit"] = NOW - timedelta(days=rng.randint(0, 400))
        if orders:
            doc["last_order_at"] = NOW - timedelta(days=rng.randint(0, 400))
        docs.append(doc)
    return docs


BASE = {
    "operator": "AND",
    "conditions": [
        {"field": "totalSpends", "operator": ">", "value": 15000},
        {"field": "visits", "operator": ">=", "value": 10},
    ],
}


def test_lookalike_excludes_the_base_and_is_not_empty() -> None:
    docs = realistic_customers()
    group = parse_rules(BASE)
    base_ids = {d["_id"] for d in docs if matches(group, d, NOW)}
    result = find_lookalikes(docs, group, NOW)
    assert result["customerIds"] and result["size"] > 0
    assert not base_ids & set(result["customerIds"])
    assert result["excludesBase"] is True
    chosen_by_rules = {d["_id"] for d in docs if matches(parse_rules(result["rules"]), d, NOW)}
    assert chosen_by_rules and not chosen_by_rules & base_ids
    assert set(result["customerIds"]) <= chosen_by_rules  # the rules cover the lookalikes
    assert len(result["customerIds"]) == len(base_ids)  # size defaults to the base size


def test_lookalikes_resemble_the_base_more_than_average() -> None:
    docs = realistic_customers()
    result = find_lookalikes(docs, parse_rules(BASE), NOW, size=20)
    spend = result["comparison"]["total_spends"]
    assert spend["lookalike"] > spend["everyone"]
    assert "spend" in result["explanation"]


def test_lookalike_is_deterministic() -> None:
    first = find_lookalikes(realistic_customers(), parse_rules(BASE), NOW, size=25)
    shuffled = realistic_customers()
    random.Random(1).shuffle(shuffled)
    second = find_lookalikes(shuffled, parse_rules(BASE), NOW, size=25)
    assert first["customerIds"] == second["customerIds"]
    assert first["rules"] == second["rules"]


def test_lookalike_of_tag_rules_lists_the_ids_because_tags_cannot_be_negated() -> None:
    docs = realistic_customers(100)
    for doc in docs[:10]:
        doc["tags"] = ["vip"]
    base = parse_rules({"conditions": [{"field": "tags", "operator": "contains", "value": "vip"}]})
    result = find_lookalikes(docs, base, NOW, size=5)
    assert result["excludesBase"] is False
    assert len(result["customerIds"]) == 5
    assert not {d["_id"] for d in docs[:10]} & set(result["customerIds"])


def test_lookalike_refuses_an_empty_base() -> None:
    nobody = parse_rules({"conditions": [{"field": "visits", "operator": ">", "value": 10**6}]})
    with pytest.raises(ValidationFailed):
        find_lookalikes(realistic_customers(50), nobody, NOW)


def test_negation_selects_exactly_the_complement_on_complete_documents() -> None:
    docs = realistic_customers(200)
    rules = {
        "operator": "OR",
        "conditions": [
            {"field": "city", "operator": "=", "value": "Pune"},
            {"field": "lastVisit", "operator": "inactive_days", "value": 100},
        ],
    }
    group, negated = parse_rules(rules), parse_rules(negate(parse_rules(rules)))
    for doc in docs:
        assert matches(group, doc, NOW) != matches(negated, doc, NOW)


# -- timing -------------------------------------------------------------------------------------
def test_timing_with_little_data_answers_a_labelled_default() -> None:
    result = recommend([("c1", NOW)], [], {}, min_events=50)
    assert result["isDefault"] is True
    assert result["evidence"]["total"] == 1
    assert "default" in str(result["explanation"])


def test_timing_finds_the_local_peak_in_customer_time_zones() -> None:
    # 10:00 in Kolkata on a Wednesday is 04:30 UTC: the peak must be reported as 10 local.
    wednesday_10_ist = datetime(2026, 1, 14, 4, 30, tzinfo=UTC)
    deliveries = [(f"c{i}", wednesday_10_ist + timedelta(minutes=i)) for i in range(40)]
    orders = [(f"c{i}", datetime(2026, 1, 10, 15, 0, tzinfo=UTC)) for i in range(20)]
    zones = {f"c{i}": "Asia/Kolkata" for i in range(40)}
    result = recommend(deliveries, orders, zones, min_events=50)
    assert result["isDefault"] is False
    top = result["recommendations"][0]
    assert (top["dayOfWeek"], top["hour"], top["timezone"]) == ("Wednesday", 10, "Asia/Kolkata")
    assert top["evidence"] == 40
    assert result["evidence"] == {"deliveryReceipts": 40, "orders": 20, "total": 60}


# -- summary ---------------------------------------------------------------------------------
def _messages(delivered: int, failed: int, reason: str = "invalid number") -> list[dict[str, Any]]:
    rows = [{"status": "DELIVERED", "sent_at": NOW, "final_at": NOW} for _ in range(delivered)]
    rows += [{"status": "FAILED", "reason": reason, "final_at": NOW} for _ in range(failed)]
    return rows


def test_summary_compares_with_the_account_and_flags_the_unusual() -> None:
    campaign = {
        "name": "Win-back",
        "started_at": NOW,
        "completed_at": NOW + timedelta(hours=3),
        "status": "completed",
    }
    metrics = campaign_metrics(campaign, _messages(60, 40))
    account = AccountRates({"a": (90, 100), "b": (95, 100), "x": (60, 100)}, [600.0, 900.0])
    text, highlights, metrics = summarise("x", campaign, metrics, account)
    assert metrics["deliveryRate"] == 0.6
    assert metrics["accountAverageRate"] == 0.925
    assert metrics["failuresByReason"] == {"invalid number": 40}
    assert "below the account average" in text
    assert "one reason dominates" in text and "slow completion" in text
    assert metrics["timeToCompleteSeconds"] == 3 * 3600


def test_summary_of_a_normal_campaign_says_nothing_unusual() -> None:
    mixed = _messages(92, 4, "invalid number") + _messages(0, 4, "mailbox full")
    metrics = campaign_metrics({"name": "ok"}, mixed)
    account = AccountRates({"a": (90, 100)}, [])
    text, _, _ = summarise("x", {"name": "ok"}, metrics, account)
    assert "Nothing unusual" in text and "above the account average" in text


def test_log_keys_sort_in_stream_order() -> None:
    from services.ai.eventlog import log_key

    ids = ["1700000000000-9", "1700000000000-10", "999999999999-0", "1700000000001-0"]
    assert sorted(ids, key=log_key) == [ids[2], ids[0], ids[1], ids[3]]
    assert sorted(map(log_key, ids)) == [log_key(i) for i in (ids[2], ids[0], ids[1], ids[3])]
    assert log_key(None) != log_key(None)


def test_consecutive_entries_share_a_log_document_and_fold_as_their_entries() -> None:
    from services.ai.eventlog import customer_log_docs, fold_customers

    def rec(cid: str, spend: int) -> dict[str, object]:
        return {"_id": cid, "spend": spend}

    entries = [(f"k{n:02d}", [rec(f"c{n % 4}", n)]) for n in range(10)]
    entries.insert(3, ("k03a", []))  # an entry without records adds nothing
    grouped = customer_log_docs(entries, max_records=4)
    assert [len(d["records"]) for d in grouped] == [4, 4, 2]
    assert [d["_id"] for d in grouped] == ["k00~k03", "k04~k07", "k08~k09"]
    one_each = [{"_id": key, "records": records} for key, records in entries if records]
    expected = fold_customers(one_each)
    assert {cid: rec["spend"] for cid, (_, rec) in expected.items()} == {
        "c0": 8,
        "c1": 9,
        "c2": 6,
        "c3": 7,
    }
    assert fold_customers(grouped) == expected
    # a redelivery grouped differently, read before or after: the same fold
    regrouped = customer_log_docs(entries[2:7], max_records=100)
    assert fold_customers([*regrouped, *grouped]) == expected
    assert fold_customers([*grouped, *regrouped]) == expected
    # one entry alone keeps its own key, and an entry over the limit is not split
    big = [("k1", [rec(f"c{n}", n) for n in range(6)]), ("k2", [rec("c0", 1)])]
    assert [(d["_id"], len(d["records"])) for d in customer_log_docs(big, 4)] == [
        ("k1", 6),
        ("k2", 1),
    ]


def test_message_fold_is_independent_of_read_order() -> None:
    from datetime import UTC, datetime

    from services.ai.eventlog import CANCELLED, FINAL, SENT, fold_messages, message_doc

    at = datetime(2026, 1, 1, tzinfo=UTC)
    docs = [
        message_doc("k1", "c", SENT, [("a", at, "", ""), ("b", at, "", "")]),
        message_doc("k2", "c", FINAL, [("a", at, "DELIVERED", ""), ("b", at, "FAILED", "x")]),
        message_doc("k3", "c", FINAL, [("a", at, "FAILED", "")]),
        message_doc("k4", "c", CANCELLED, [("b", at, "", ""), ("z", at, "", "")]),
    ]
    folds = [fold_messages(docs), fold_messages(reversed(docs))]
    assert folds[0] == folds[1]
    state = folds[0]
    # the first final status stays (delivery's and campaign's rule): a later FAILED for
    # a DELIVERED message changes nothing
    assert state["c:a"]["status"] == "DELIVERED" and "reason" not in state["c:a"]
    assert (state["c:b"]["status"], state["c:b"]["reason"]) == ("FAILED", "x")
    assert state["c:z"]["status"] == "CANCELLED" and "sent_at" not in state["c:z"]
    assert state["c:b"]["sent_at"] == at
