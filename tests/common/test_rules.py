"""The segment engine: validation, injection refusal, compilation and evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.common.rules import (
    MAX_DEPTH,
    RuleError,
    compile_rules,
    describe,
    matches,
    parse_rules,
    to_json,
    used_fields,
)

pytestmark = pytest.mark.unit
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def cond(field, op, value):
    return {"field": field, "operator": op, "value": value}


def test_documented_example_with_string_numbers_is_accepted():
    group = parse_rules({"operator": "AND", "conditions": [cond("totalSpends", ">", "10000")]})
    assert compile_rules(group, NOW) == {"total_spends": {"$gt": 10000.0}}
    assert to_json(group)["conditions"][0]["value"] == 10000


@pytest.mark.parametrize(
    "raw",
    [
        {"$where": "sleep(1000)"},
        {"operator": "AND", "conditions": [{"$where": "1"}]},
        {"operator": "AND", "conditions": [cond("totalSpends", ">", {"$gt": ""})]},
        {"operator": "AND", "conditions": [cond("name", "=", {"$ne": None})]},
        {"operator": "AND", "conditions": [cond("name", "in", [{"$gt": ""}])]},
        {"operator": "AND", "conditions": [cond("$where", "=", "1")]},
        {"operator": "AND", "conditions": [cond("password", "=", "x")]},
        {"operator": "AND", "conditions": [cond("totalSpends", "$gt", 5)]},
        {"operator": "NAND", "conditions": []},
        {"operator": "AND", "conditions": [cond("totalSpends", ">", "NaN")]},
        {"operator": "AND", "conditions": [cond("totalSpends", ">", "1e400")]},
        {"operator": "AND", "conditions": [cond("lastVisit", "inactive_days", -3)]},
        {"operator": "AND", "conditions": [cond("lastVisit", ">", "yesterday")]},
        {"operator": "AND", "conditions": [cond("tags", ">", 3)]},
        "not an object",
    ],
)
def test_injection_and_invalid_rules_are_refused_with_a_reason(raw):
    with pytest.raises(RuleError) as caught:
        parse_rules(raw)
    assert caught.value.status == 422
    assert caught.value.details and caught.value.details[0]["message"]


def test_deep_nesting_is_refused():
    raw: dict = {"operator": "AND", "conditions": [cond("visits", ">", 1)]}
    for _ in range(10_000):
        raw = {"operator": "OR", "conditions": [raw]}
    with pytest.raises(RuleError) as caught:
        parse_rules(raw)
    assert str(MAX_DEPTH) in caught.value.message


def test_nested_groups_compile_and_evaluate_alike():
    raw = {
        "operator": "OR",
        "conditions": [
            {
                "operator": "AND",
                "conditions": [cond("totalSpends", ">=", 5000), cond("city", "contains", "pun")],
            },
            cond("tags", "contains", "vip"),
        ],
    }
    group = parse_rules(raw)
    assert compile_rules(group, NOW) == {
        "$or": [
            {
                "$and": [
                    {"total_spends": {"$gte": 5000.0}},
                    {"city": {"$regex": "pun", "$options": "i"}},
                ]
            },
            {"tags": "vip"},
        ]
    }
    assert matches(group, {"total_spends": 6000, "city": "Pune"}, NOW)
    assert matches(group, {"tags": ["vip"]}, NOW)
    assert not matches(group, {"total_spends": 6000, "city": "Delhi"}, NOW)
    assert used_fields(group) == ["totalSpends", "city", "tags"]


def test_inactive_days_includes_customers_who_never_visited():
    group = parse_rules({"operator": "AND", "conditions": [cond("lastVisit", "inactive_days", 90)]})
    assert matches(group, {}, NOW)
    assert matches(group, {"last_visit": NOW - timedelta(days=91)}, NOW)
    assert not matches(group, {"last_visit": NOW - timedelta(days=10)}, NOW)


def test_contains_is_a_literal_case_insensitive_match_not_a_regex():
    group = parse_rules({"operator": "AND", "conditions": [cond("name", "contains", ".*")]})
    assert compile_rules(group, NOW) == {"name": {"$regex": r"\.\*", "$options": "i"}}
    assert not matches(group, {"name": "Anything"}, NOW)


def test_empty_group_matches_everyone():
    group = parse_rules({"operator": "AND", "conditions": []})
    assert compile_rules(group, NOW) == {}
    assert matches(group, {}, NOW)
    assert describe(group) == "everyone"


def test_in_accepts_lists_and_comma_separated_text():
    group = parse_rules({"operator": "AND", "conditions": [cond("city", "in", "Pune, Delhi")]})
    assert compile_rules(group, NOW) == {"city": {"$in": ["Pune", "Delhi"]}}
