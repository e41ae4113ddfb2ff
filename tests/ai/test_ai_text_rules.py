"""The fallback English parser, judged by the audience its rules select.

Each description's rules are evaluated with libs.common.rules.matches on a fixed set of
synthetic customers and compared with the ids an independent Python predicate picks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from libs.common.rules import matches, parse_rules
from services.ai.text_facts import AudienceFacts
from services.ai.text_rules import TextNotUnderstood, amount_value, parse_description

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
Doc = dict[str, Any]

# id, spend, visits, orders, last visit (days ago), last order (days ago), joined (days ago),
# city, tags, has email
_ROWS: list[tuple[Any, ...]] = [
    ("c01", 500, 1, 0, 200, None, 400, "Mumbai", [], True),
    ("c02", 15_000, 12, 8, 5, 5, 900, "Mumbai", ["vip"], True),
    ("c03", 2_500, 3, 1, 45, 60, 120, "Pune", [], False),
    ("c04", 120_000, 40, 25, 2, 1, 1500, "Delhi", ["vip", "gold"], True),
    ("c05", 8_000, 6, 4, 95, 100, 700, "Bangalore", ["gold"], True),
    ("c06", 0, 0, 0, None, None, 10, "Chennai", [], False),
    ("c07", 10_000, 10, 5, 30, 31, 365, "Pune", ["newsletter"], True),
    ("c08", 1_500_000, 80, 60, 400, 380, 2000, "Mumbai", ["vip"], True),
    ("c09", 25_000, 2, 2, 181, 200, 800, "Kolkata", [], True),
    ("c10", 4_999, 5, 3, 6, 20, 25, "Delhi", [], True),
    ("c11", 50_000, 15, 10, 370, 370, 1200, "New Delhi", ["gold"], False),
    ("c12", 700, 1, 1, 1, 1, 3, "Hyderabad", [], True),
    ("c13", 99_000, 20, 12, 15, 40, 600, "Mumbai", [], True),
    ("c14", 200, 2, 0, 60, None, 90, None, [], True),
    ("c15", 30_000, 9, 7, 92, 91, 1000, "Pune", ["vip"], True),
    ("c16", 5_000, 4, 2, 8, 8, 40, "Bangalore", [], True),
    ("c17", 250_000, 30, 18, 120, 125, 1800, "Delhi", [], True),
    ("c18", 12_000, 11, 6, 3, 200, 500, "Chennai", ["gold"], True),
]


def _ago(days: int | None) -> datetime | None:
    return None if days is None else NOW - timedelta(days=days, hours=1)


def _doc(row: tuple[Any, ...]) -> Doc:
    cid, spend, visits, orders, visit, order, joined, city, tags, email = row
    doc: Doc = {
        "_id": cid,
        "total_spends": float(spend),
        "visits": visits,
        "order_count": orders,
        "last_visit": _ago(visit),
        "last_order_at": _ago(order),
        "created_at": _ago(joined),
        "city": city,
        "tags": tags,
        "email": f"{cid}@example.com" if email else None,
    }
    return {k: v for k, v in doc.items() if v is not None and v != []}


CUSTOMERS = [_doc(r) for r in _ROWS]
ROW = {r[0]: r for r in _ROWS}


def _days(value: int | None) -> float:
    return float("inf") if value is None else value + 1 / 24


def spend(c: str) -> float:
    return float(ROW[c][1])


def visits(c: str) -> int:
    return int(ROW[c][2])


def orders(c: str) -> int:
    return int(ROW[c][3])


def visit_ago(c: str) -> float:
    return _days(ROW[c][4])


def order_ago(c: str) -> float:
    return _days(ROW[c][5])


def joined_ago(c: str) -> float:
    return _days(ROW[c][6])


def city(c: str) -> str | None:
    return ROW[c][7]  # type: ignore[no-any-return]


def tags(c: str) -> list[str]:
    return ROW[c][8]  # type: ignore[no-any-return]


Predicate = Callable[[str], bool]
CASES: list[tuple[str, Predicate]] = [
    (
        "People who haven't shopped in 90 days and spent over ₹10,000",
        lambda c: order_ago(c) > 90 and spend(c) > 10_000,
    ),
    ("customers who spent more than 10k", lambda c: spend(c) > 10_000),
    ("spent at least Rs. 10,000", lambda c: spend(c) >= 10_000),
    ("total spend under $1000", lambda c: spend(c) < 1000),
    ("spent over 1 lakh", lambda c: spend(c) > 100_000),
    ("spend above 1,00,000 INR", lambda c: spend(c) > 100_000),
    ("spent more than 1 crore", lambda c: spend(c) > 10_000_000),
    ("spent more than 0.1 crore", lambda c: spend(c) > 1_000_000),
    ("spent between ₹5,000 and ₹20,000", lambda c: 5_000 <= spend(c) <= 20_000),
    ("spent from 5k to 30k", lambda c: 5_000 <= spend(c) <= 30_000),
    ("spent exactly 5000 rupees", lambda c: spend(c) == 5_000),
    ("spent 10k or more", lambda c: spend(c) >= 10_000),
    ("spent no more than 2,500", lambda c: spend(c) <= 2_500),
    ("visited more than 10 times", lambda c: visits(c) > 10),
    ("at least 5 visits", lambda c: visits(c) >= 5),
    ("fewer than 3 visits", lambda c: visits(c) < 3),
    ("5+ visits and spent below 10000", lambda c: visits(c) >= 5 and spend(c) < 10_000),
    ("placed at least 5 orders", lambda c: orders(c) >= 5),
    ("more than 10 orders", lambda c: orders(c) > 10),
    ("ordered more than twice", lambda c: orders(c) > 2),
    ("exactly 2 orders", lambda c: orders(c) == 2),
    ("never ordered", lambda c: orders(c) == 0),
    ("customers with no orders", lambda c: orders(c) == 0),
    ("never visited", lambda c: visits(c) == 0),
    ("haven't visited in 6 months", lambda c: visit_ago(c) > 180),
    ("have not visited in a year", lambda c: visit_ago(c) > 365),
    ("haven't ordered in 3 weeks", lambda c: order_ago(c) > 21),
    ("inactive for 90 days", lambda c: visit_ago(c) > 90),
    ("no purchases in the last 60 days", lambda c: order_ago(c) > 60),
    ("last visit more than 100 days ago", lambda c: visit_ago(c) > 100),
    ("visited in the last 7 days", lambda c: visit_ago(c) <= 7),
    ("active in the last 30 days", lambda c: visit_ago(c) <= 30),
    ("ordered within the past 2 weeks", lambda c: order_ago(c) <= 14),
    ("shopped this month", lambda c: order_ago(c) <= 14.5),  # since 1 Jan, 00:00 UTC
    ("visited this week", lambda c: visit_ago(c) <= 3.5),  # since Monday 12 Jan
    ("visited recently", lambda c: visit_ago(c) <= 30),
    ("new customers", lambda c: joined_ago(c) <= 30),
    ("joined in the last 100 days", lambda c: joined_ago(c) <= 100),
    ("customers in Mumbai", lambda c: city(c) == "Mumbai"),
    ("from Pune", lambda c: city(c) == "Pune"),
    ("in New Delhi", lambda c: city(c) == "New Delhi"),
    ("in Mumbai or Pune", lambda c: city(c) in ("Mumbai", "Pune")),
    ("not in Mumbai", lambda c: city(c) != "Mumbai"),
    ("tagged vip", lambda c: "vip" in tags(c)),
    ("with the gold tag", lambda c: "gold" in tags(c)),
    ("tagged vip or gold", lambda c: "vip" in tags(c) or "gold" in tags(c)),
    ("customers without an email", lambda c: ROW[c][9] is False),
    (
        "in Mumbai and spent over 10000",
        lambda c: city(c) == "Mumbai" and spend(c) > 10_000,
    ),
    (
        "from Delhi or Pune and visited more than 5 times",
        lambda c: city(c) in ("Delhi", "Pune") and visits(c) > 5,  # a list of cities is one value
    ),
    (
        "spent over 50k or visited more than 10 times and haven't ordered in 30 days",
        lambda c: spend(c) > 50_000 or (visits(c) > 10 and order_ago(c) > 30),
    ),
    (
        "tagged vip, spent over ₹1,00,000, but haven't visited in 6 months",
        lambda c: "vip" in tags(c) and spend(c) > 100_000 and visit_ago(c) > 180,
    ),
    ("customers who spent 5k+", lambda c: spend(c) >= 5_000),
    ("spent 1k-5k", lambda c: 1_000 <= spend(c) <= 5_000),
    ("people with 0 orders", lambda c: orders(c) == 0),
    ("customers who have bought something in the past week", lambda c: order_ago(c) <= 7),
    (
        "haven't visited in 30 days and in Pune or Mumbai or Delhi",
        lambda c: visit_ago(c) > 30 and city(c) in ("Pune", "Mumbai", "Delhi"),
    ),
    ("not in Mumbai or Pune", lambda c: city(c) not in ("Mumbai", "Pune")),
    (
        "spent over 20000 in Mumbai or Delhi",
        lambda c: spend(c) > 20_000 and city(c) in ("Mumbai", "Delhi"),
    ),
    ("spent over 100000 or under 1000", lambda c: spend(c) > 100_000 or spend(c) < 1_000),
    (
        "Mumbai customers who shopped this month",
        lambda c: city(c) == "Mumbai" and order_ago(c) <= 14.5,
    ),
]


def selected(rules: dict[str, Any]) -> set[str]:
    group = parse_rules(rules)
    return {doc["_id"] for doc in CUSTOMERS if matches(group, doc, NOW)}


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(("description", "predicate"), CASES, ids=[c[0] for c in CASES])
def test_description_selects_the_expected_customers(description: str, predicate: Predicate) -> None:
    parsed = parse_description(description, AudienceFacts(now=NOW))
    expected = {cid for cid in ROW if predicate(cid)}
    assert selected(parsed.rules) == expected
    assert parse_rules(parsed.rules)  # always valid for the rule engine


def test_cases_are_discriminating() -> None:
    """A case that selects everyone or no one could hide a wrong parse."""
    trivial = [
        d for d, p in CASES if len({c for c in ROW if p(c)}) in (0, len(ROW)) and "crore" not in d
    ]
    assert trivial == []


def test_and_binds_tighter_than_or() -> None:
    rules = parse_description("in Pune or in Mumbai and tagged vip").rules
    assert rules["operator"] == "OR"
    assert rules["conditions"][0] == {"field": "city", "operator": "=", "value": "Pune"}
    assert rules["conditions"][1]["operator"] == "AND"


@pytest.mark.parametrize(
    ("text", "value", "money"),
    [
        ("10,000", 10_000, False),
        ("1,00,000", 100_000, False),
        ("inr 2.5 lakh", 250_000, True),
        ("usd 3k", 3_000, True),
        ("1 crore", 10_000_000, True),
        ("twelve", 12, False),
    ],
)
def test_amounts_understand_separators_units_and_currency(
    text: str, value: float, money: bool
) -> None:
    assert amount_value(text) == (value, money)


@pytest.mark.parametrize(
    ("description", "fragment"),
    [
        ("customers who like cricket", "like cricket"),
        ("big spenders", "big"),  # without a customer base there is no top quarter
        ("", ""),
    ],
)
def test_unparseable_text_is_refused_with_the_fragment(description: str, fragment: str) -> None:
    with pytest.raises(TextNotUnderstood) as caught:
        parse_description(description)
    assert caught.value.status == 422
    if fragment:
        assert any(fragment in d["unrecognised"] for d in caught.value.details)


def test_interpretations_are_explained_in_notes() -> None:
    notes = parse_description("shopped this month", AudienceFacts(now=NOW)).notes
    assert any("1 Jan 2026" in note for note in notes)


def test_words_not_understood_are_skipped_and_the_rest_kept() -> None:
    parsed = parse_description("spent over 5000 in the last 30 days")
    assert parsed.rules["conditions"] == [{"field": "totalSpends", "operator": ">", "value": 5000}]
    assert parsed.skipped == ["last 30 days"]


def test_words_after_and_are_never_taken_for_another_city() -> None:
    parsed = parse_description("customers in Mumbai who signed up this year and love cricket")
    assert [c["field"] for c in parsed.rules["conditions"]] == ["city", "createdAt"]
    assert parsed.skipped == ["love cricket"]


def test_a_clause_with_a_negation_not_understood_is_left_out_whole() -> None:
    parsed = parse_description("in Pune and not vip")
    assert parsed.rules["conditions"] == [{"field": "city", "operator": "=", "value": "Pune"}]
    assert parsed.skipped == ["not vip"]
