"""How marketers talk, judged by audience: each phrase is parsed with the facts of a fixed
customer base (tests/ai/phrase_data.py), its rules evaluated with the shared evaluator
(libs.common.rules.matches), and the selected ids compared with those an independent
predicate picks. At least 90% of the phrases must select exactly the expected audience.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from phrase_data import (
    CUSTOMERS,
    DOCS,
    NOW,
    P25_SPEND,
    P75_ORDERS,
    P75_SPEND,
    P75_VISITS,
    P90_SPEND,
    Customer,
    at,
    nearest_rank,
    on_or_after,
)

from libs.common.rules import matches, parse_rules
from services.ai.text_facts import facts_from_customers
from services.ai.text_rules import TextNotUnderstood, parse_description

pytestmark = pytest.mark.unit

FACTS = facts_from_customers(DOCS, NOW)
Predicate = Callable[[Customer], bool]

THIS_WEEK, THIS_MONTH, THIS_QUARTER, THIS_YEAR = (
    at(2026, 6, 15),
    at(2026, 6),
    at(2026, 4),
    at(2026, 1),
)
SOUTH = ("Bengaluru", "Chennai", "Hyderabad", "Kochi")


def gmail(c: Customer) -> bool:
    return c.domain.startswith("gmail.")


def never_ordered(c: Customer) -> bool:
    return c.last_order is None


PHRASES: list[tuple[str, Predicate]] = [
    # -- the issue's six
    ("customers from Mumbai", lambda c: c.city == "Mumbai"),
    (
        "people who placed more than 5 orders but haven't bought anything in the last 90 days",
        lambda c: c.orders > 5 and c.order_days > 90,
    ),
    (
        "big spenders who haven't visited in 2 months",
        lambda c: c.spend > P75_SPEND and c.visit_days > 60,
    ),
    (
        "vip customers in Bengaluru or Pune who ordered in the last 30 days",
        lambda c: "vip" in c.tags and c.city in ("Bengaluru", "Pune") and c.order_days <= 30,
    ),
    (
        "new customers who joined this year and have never ordered",
        lambda c: c.joined >= THIS_YEAR and never_ordered(c),
    ),
    (
        "customers with a gmail address who are tagged churn-risk",
        lambda c: gmail(c) and "churn-risk" in c.tags,
    ),
    # -- vague quantities, resolved from this customer base
    ("big spenders", lambda c: c.spend > P75_SPEND),
    ("high spenders", lambda c: c.spend > P75_SPEND),
    ("top spenders", lambda c: c.spend > P75_SPEND),
    ("our biggest spenders", lambda c: c.spend > P75_SPEND),
    ("high-value customers", lambda c: c.spend > P75_SPEND),
    ("high value customers in Mumbai", lambda c: c.spend > P75_SPEND and c.city == "Mumbai"),
    ("whales", lambda c: c.spend > P75_SPEND),
    ("top customers", lambda c: c.spend > P75_SPEND),
    (
        "best customers who haven't ordered in 60 days",
        lambda c: c.spend > P75_SPEND and c.order_days > 60,
    ),
    ("top 10% of spenders", lambda c: c.spend > P90_SPEND),
    ("top 10 percent customers by spend", lambda c: c.spend > P90_SPEND),
    ("top 25% customers", lambda c: c.spend > P75_SPEND),
    ("bottom 25% of spenders", lambda c: c.spend < P25_SPEND),
    ("low spenders", lambda c: c.spend < P25_SPEND),
    ("small spenders in Delhi", lambda c: c.spend < P25_SPEND and c.city == "Delhi"),
    ("average spenders", lambda c: P25_SPEND <= c.spend <= P75_SPEND),
    ("loyal customers", lambda c: c.orders >= P75_ORDERS),
    ("our most loyal customers in Pune", lambda c: c.orders >= P75_ORDERS and c.city == "Pune"),
    ("regulars", lambda c: c.orders >= P75_ORDERS),
    ("frequent buyers", lambda c: c.orders >= P75_ORDERS),
    ("frequent visitors", lambda c: c.visits >= P75_VISITS),
    (
        "regular visitors who have not ordered in 90 days",
        lambda c: c.visits >= P75_VISITS and c.order_days > 90,
    ),
    ("repeat customers", lambda c: c.orders >= 2),
    ("repeat buyers from Chennai", lambda c: c.orders >= 2 and c.city == "Chennai"),
    ("returning customers", lambda c: c.orders >= 2),
    ("customers who ordered more than once", lambda c: c.orders >= 2),
    ("one-time buyers", lambda c: c.orders == 1),
    ("first-time buyers in Hyderabad", lambda c: c.orders == 1 and c.city == "Hyderabad"),
    ("customers who bought only once", lambda c: c.orders == 1),
    ("big spenders with fewer than 3 orders", lambda c: c.spend > P75_SPEND and c.orders < 3),
    # -- recency and loyalty words
    ("lapsed customers", lambda c: c.visit_days > 90),
    ("churned customers", lambda c: c.visit_days > 90),
    ("dormant users in Mumbai", lambda c: c.visit_days > 90 and c.city == "Mumbai"),
    ("inactive customers", lambda c: c.visit_days > 90),
    ("inactive for 60 days", lambda c: c.visit_days > 60),
    ("active customers", lambda c: c.visit_days <= 30),
    ("active customers in Bengaluru", lambda c: c.visit_days <= 30 and c.city == "Bengaluru"),
    ("recent buyers", lambda c: c.order_days <= 30),
    ("recent visitors", lambda c: c.visit_days <= 30),
    ("visited recently", lambda c: c.visit_days <= 30),
    ("haven't been back in 3 months", lambda c: c.visit_days > 90),
    ("haven't come in for 6 weeks", lambda c: c.visit_days > 42),
    ("have not shopped in 4 months", lambda c: c.order_days > 120),
    ("not purchased in the last 45 days", lambda c: c.order_days > 45),
    ("no orders in the past 60 days", lambda c: c.order_days > 60),
    ("no visits in the last fortnight", lambda c: c.visit_days > 14),
    ("last visit more than 100 days ago", lambda c: c.visit_days > 100),
    ("last order over a year ago", lambda c: c.order_days > 365),
    ("visited in the last 7 days", lambda c: c.visit_days <= 7),
    ("visited within the past 2 weeks", lambda c: c.visit_days <= 14),
    ("ordered in the last 2 months", lambda c: c.order_days <= 60),
    ("bought something in the past 10 days", lambda c: c.order_days <= 10),
    ("purchased within 3 months", lambda c: c.order_days <= 90),
    ("shopped in the last year", lambda c: c.order_days <= 365),
    ("haven't visited in a year", lambda c: c.visit_days > 365),
    ("haven't visited in 2 months", lambda c: c.visit_days > 60),
    ("have not ordered in thirty days", lambda c: c.order_days > 30),
    # -- never
    ("never ordered", never_ordered),
    ("customers who have never placed an order", never_ordered),
    ("people who haven't bought anything yet", never_ordered),
    ("customers yet to order", never_ordered),
    ("customers with no orders", never_ordered),
    ("people with 0 orders", never_ordered),
    ("never visited", lambda c: c.visits == 0),
    ("signed up but never ordered", never_ordered),
    (
        "never ordered and joined in the last 60 days",
        lambda c: never_ordered(c) and c.joined_days <= 60,
    ),
    # -- calendar dates
    ("joined this year", lambda c: c.joined >= THIS_YEAR),
    ("signed up this month", lambda c: c.joined >= THIS_MONTH),
    ("registered this week", lambda c: c.joined >= THIS_WEEK),
    ("joined this quarter", lambda c: c.joined >= THIS_QUARTER),
    ("ordered this year", lambda c: on_or_after(c.last_order, THIS_YEAR)),
    ("shopped this month", lambda c: on_or_after(c.last_order, THIS_MONTH)),
    ("visited this week", lambda c: on_or_after(c.last_visit, THIS_WEEK)),
    ("visited today", lambda c: on_or_after(c.last_visit, at(2026, 6, 17))),
    ("ordered since March", lambda c: on_or_after(c.last_order, at(2026, 3))),
    ("visited since April", lambda c: on_or_after(c.last_visit, at(2026, 4))),
    ("joined since January", lambda c: c.joined >= at(2026, 1)),
    ("haven't ordered since March", lambda c: not on_or_after(c.last_order, at(2026, 3))),
    ("have not visited since May", lambda c: not on_or_after(c.last_visit, at(2026, 5))),
    ("not visited this month", lambda c: not on_or_after(c.last_visit, THIS_MONTH)),
    ("haven't ordered this year", lambda c: not on_or_after(c.last_order, THIS_YEAR)),
    ("ordered since 15 March 2026", lambda c: on_or_after(c.last_order, at(2026, 3, 15))),
    ("visited since 1st May", lambda c: on_or_after(c.last_visit, at(2026, 5, 1))),
    ("ordered since December", lambda c: on_or_after(c.last_order, at(2025, 12))),
    ("ordered since 2025", lambda c: on_or_after(c.last_order, at(2025, 1))),
    ("ordered since last year", lambda c: on_or_after(c.last_order, at(2025, 1))),
    ("joined in 2025", lambda c: at(2025, 1) <= c.joined < at(2026, 1)),
    ("joined in 2024", lambda c: at(2024, 1) <= c.joined < at(2025, 1)),
    ("signed up in March", lambda c: at(2026, 3) <= c.joined < at(2026, 4)),
    ("registered in November 2025", lambda c: at(2025, 11) <= c.joined < at(2025, 12)),
    ("joined last year", lambda c: at(2025, 1) <= c.joined < at(2026, 1)),
    ("joined last month", lambda c: at(2026, 5) <= c.joined < at(2026, 6)),
    ("joined before 2025", lambda c: c.joined < at(2025, 1)),
    ("signed up before March 2026", lambda c: c.joined < at(2026, 3)),
    ("last order before April", lambda c: c.last_order is not None and c.last_order < at(2026, 4)),
    ("last visit after 2026-05-01", lambda c: on_or_after(c.last_visit, at(2026, 5))),
    ("joined in the last 90 days", lambda c: c.joined_days <= 90),
    ("new customers", lambda c: c.joined_days <= 30),
    ("new customers in Delhi", lambda c: c.joined_days <= 30 and c.city == "Delhi"),
    ("joined more than 2 years ago", lambda c: c.joined_days > 730),
    ("customers for more than a year", lambda c: c.joined_days > 365),
    # -- Indian and short numbers
    ("spent more than 10k", lambda c: c.spend > 10_000),
    ("spent over ₹50,000", lambda c: c.spend > 50_000),
    ("spent at least Rs. 5,000", lambda c: c.spend >= 5_000),
    ("spent over 1 lakh", lambda c: c.spend > 100_000),
    ("spent above 1.5 lakh", lambda c: c.spend > 150_000),
    ("spend above 1,00,000 INR", lambda c: c.spend > 100_000),
    ("spent more than 0.01 crore", lambda c: c.spend > 100_000),
    ("lifetime value over 25k", lambda c: c.spend > 25_000),
    ("spent between 5k and 20k", lambda c: 5_000 <= c.spend <= 20_000),
    ("spent 2k-8k", lambda c: 2_000 <= c.spend <= 8_000),
    ("spent 20k+", lambda c: c.spend >= 20_000),
    ("spent under 2,500 rupees", lambda c: c.spend < 2_500),
    ("spent less than five thousand", lambda c: c.spend < 5_000),
    ("spent no more than 3000", lambda c: c.spend <= 3_000),
    ("total spend under 1k", lambda c: c.spend < 1_000),
    ("more than 10 visits", lambda c: c.visits > 10),
    ("visited at least 5 times", lambda c: c.visits >= 5),
    ("fewer than 3 visits", lambda c: c.visits < 3),
    ("visited more than twice", lambda c: c.visits > 2),
    ("placed at least 5 orders", lambda c: c.orders >= 5),
    ("more than 8 orders", lambda c: c.orders > 8),
    ("exactly 2 orders", lambda c: c.orders == 2),
    ("3 or more orders", lambda c: c.orders >= 3),
    ("ordered more than 4 times", lambda c: c.orders > 4),
    # -- cities
    ("customers in Bengaluru", lambda c: c.city == "Bengaluru"),
    ("customers in Bangalore", lambda c: c.city == "Bengaluru"),
    ("from Bombay", lambda c: c.city == "Mumbai"),
    ("Mumbai customers", lambda c: c.city == "Mumbai"),
    ("Pune-based customers", lambda c: c.city == "Pune"),
    ("in New Delhi", lambda c: c.city == "New Delhi"),
    ("in Delhi", lambda c: c.city == "Delhi"),
    ("from Gurgaon", lambda c: c.city == "Gurugram"),
    ("customers in Mumbai or Pune", lambda c: c.city in ("Mumbai", "Pune")),
    ("in Mumbai, Pune or Delhi", lambda c: c.city in ("Mumbai", "Pune", "Delhi")),
    ("customers in Chennai, Hyderabad, Bengaluru and Kochi", lambda c: c.city in SOUTH),
    ("customers in Mumbai and Pune", lambda c: c.city in ("Mumbai", "Pune")),
    ("not in Mumbai", lambda c: c.city != "Mumbai"),
    ("customers outside Mumbai and Delhi", lambda c: c.city not in ("Mumbai", "Delhi")),
    ("excluding Bengaluru", lambda c: c.city != "Bengaluru"),
    ("from London or Dubai", lambda c: c.city in ("London", "Dubai")),
    ("Jaipur or Kolkata shoppers", lambda c: c.city in ("Jaipur", "Kolkata")),
    ("living in Kochi", lambda c: c.city == "Kochi"),
    (
        "customers from Mumbai or Pune who spent over 20k",
        lambda c: c.city in ("Mumbai", "Pune") and c.spend > 20_000,
    ),
    # -- tags
    ("tagged vip", lambda c: "vip" in c.tags),
    ("vip customers", lambda c: "vip" in c.tags),
    ("VIPs", lambda c: "vip" in c.tags),
    ("churn-risk customers", lambda c: "churn-risk" in c.tags),
    ("tagged gold or vip", lambda c: "gold" in c.tags or "vip" in c.tags),
    ("tagged newsletter and app-user", lambda c: "newsletter" in c.tags and "app-user" in c.tags),
    ("customers with the wholesale tag", lambda c: "wholesale" in c.tags),
    ("students", lambda c: "student" in c.tags),
    ("app-user customers in Mumbai", lambda c: "app-user" in c.tags and c.city == "Mumbai"),
    ("tagged loyal", lambda c: "loyal" in c.tags),
    ("customers tagged as new", lambda c: "new" in c.tags),
    ("with tag gold", lambda c: "gold" in c.tags),
    # -- email domains and contact details
    ("gmail users", gmail),
    ("customers with a yahoo email", lambda c: c.domain.startswith("yahoo.")),
    ("customers with an @acme.in address", lambda c: c.domain == "acme.in"),
    ("email ends with yahoo.co.in", lambda c: c.domain == "yahoo.co.in"),
    ("emails ending in outlook.com", lambda c: c.domain == "outlook.com"),
    ("gmail or yahoo users", lambda c: gmail(c) or c.domain.startswith("yahoo.")),
    (
        "customers with a rediffmail account in Mumbai",
        lambda c: c.domain == "rediffmail.com" and c.city == "Mumbai",
    ),
    ("customers without an email", lambda c: c.email is None),
    ("customers with a phone number", lambda c: c.phone is not None),
    ("no phone number", lambda c: c.phone is None),
    # -- combinations
    (
        "big spenders in Mumbai who haven't ordered in 90 days",
        lambda c: c.spend > P75_SPEND and c.city == "Mumbai" and c.order_days > 90,
    ),
    (
        "vip customers who haven't visited since March",
        lambda c: "vip" in c.tags and not on_or_after(c.last_visit, at(2026, 3)),
    ),
    (
        "gmail users who joined this year",
        lambda c: gmail(c) and c.joined >= THIS_YEAR,
    ),
    (
        "loyal customers in Bangalore or Chennai",
        lambda c: c.orders >= P75_ORDERS and c.city in ("Bengaluru", "Chennai"),
    ),
    (
        "lapsed vip customers",
        lambda c: c.visit_days > 90 and "vip" in c.tags,
    ),
    (
        "spent over 1 lakh or tagged vip",
        lambda c: c.spend > 100_000 or "vip" in c.tags,
    ),
    (
        "in Delhi or Gurgaon and spent more than 15k",
        lambda c: c.city in ("Delhi", "Gurugram") and c.spend > 15_000,
    ),
    (
        "customers who spent over 10k and visited more than 5 times",
        lambda c: c.spend > 10_000 and c.visits > 5,
    ),
    (
        "repeat buyers who haven't ordered since January",
        lambda c: c.orders >= 2 and not on_or_after(c.last_order, at(2026, 1)),
    ),
    (
        "new customers with a gmail address",
        lambda c: c.joined_days <= 30 and gmail(c),
    ),
    (
        "churn-risk customers who spent more than 20,000",
        lambda c: "churn-risk" in c.tags and c.spend > 20_000,
    ),
    (
        "top 10% spenders who visited in the last 30 days",
        lambda c: c.spend > P90_SPEND and c.visit_days <= 30,
    ),
    (
        "one-time buyers who joined last year",
        lambda c: c.orders == 1 and at(2025, 1) <= c.joined < at(2026, 1),
    ),
    (
        "students in Mumbai who signed up this year",
        lambda c: "student" in c.tags and c.city == "Mumbai" and c.joined >= THIS_YEAR,
    ),
    (
        "customers who spent more than 5k but not in Mumbai",
        lambda c: c.spend > 5_000 and c.city != "Mumbai",
    ),
    (
        "high spenders who are tagged newsletter",
        lambda c: c.spend > P75_SPEND and "newsletter" in c.tags,
    ),
    (
        "active customers with fewer than 2 orders",
        lambda c: c.visit_days <= 30 and c.orders < 2,
    ),
    (
        "people in Kolkata who haven't bought anything in 6 months",
        lambda c: c.city == "Kolkata" and c.order_days > 180,
    ),
    (
        "dormant big spenders",
        lambda c: c.visit_days > 90 and c.spend > P75_SPEND,
    ),
    (
        "ordered this month and spent over 5k",
        lambda c: on_or_after(c.last_order, THIS_MONTH) and c.spend > 5_000,
    ),
    # -- written after the parser, not tuned to it (a miss here is a real gap)
    (
        "customers who spent more than 50k in Mumbai and Pune",
        lambda c: c.spend > 50_000 and c.city in ("Mumbai", "Pune"),
    ),
    ("people from bangalore with over 3 orders", lambda c: c.city == "Bengaluru" and c.orders > 3),
    (
        "high spenders who have not purchased since January",
        lambda c: c.spend > P75_SPEND and not on_or_after(c.last_order, at(2026, 1)),
    ),
    (
        "customers who joined in the last 6 months and spent under 5k",
        lambda c: c.joined_days <= 180 and c.spend < 5_000,
    ),
    ("inactive vips", lambda c: c.visit_days > 90 and "vip" in c.tags),
    (
        "shoppers who signed up in 2025 but never bought anything",
        lambda c: at(2025, 1) <= c.joined < at(2026, 1) and never_ordered(c),
    ),
    (
        "everyone in Hyderabad except the churn-risk ones",  # no "tag absent" rule exists
        lambda c: c.city == "Hyderabad" and "churn-risk" not in c.tags,
    ),
    ("customers whose last order was more than 60 days ago", lambda c: c.order_days > 60),
    ("top 5% customers", lambda c: c.spend > nearest_rank([x.spend for x in CUSTOMERS], 95)),
    ("customers with more than 1 lakh in total spend", lambda c: c.spend > 100_000),
    ("customers with yahoo.co.in emails", lambda c: c.domain == "yahoo.co.in"),
    (
        "loyal customers who haven't ordered in 90 days",
        lambda c: c.orders >= P75_ORDERS and c.order_days > 90,
    ),
    ("users with at least 3 visits in Chennai", lambda c: c.city == "Chennai" and c.visits >= 3),
    ("new signups this month", lambda c: c.joined >= THIS_MONTH),
    ("spent ₹10k-₹50k", lambda c: 10_000 <= c.spend <= 50_000),
    ("VIP customers not seen in 3 months", lambda c: "vip" in c.tags and c.visit_days > 90),
    ("customers with an email", lambda c: c.email is not None),
    (
        "people who visited last week",
        lambda c: at(2026, 6, 8) <= (c.last_visit or at(1900, 1)) < THIS_WEEK,
    ),
]


def selected(rules: dict[str, object]) -> set[str]:
    group = parse_rules(rules)
    return {doc["_id"] for doc in DOCS if matches(group, doc, NOW)}


def expected(predicate: Predicate) -> set[str]:
    return {c.id for c in CUSTOMERS if predicate(c)}


def outcome(description: str, predicate: Predicate) -> str:
    """'' when the phrase selects exactly the expected customers, else what went wrong."""
    try:
        parsed = parse_description(description, FACTS)
    except TextNotUnderstood as exc:
        return f"refused: {exc}"
    got, want = selected(parsed.rules), expected(predicate)
    if got == want:
        return ""
    return (
        f"{len(got)} selected, {len(want)} expected ({len(got - want)} extra, "
        f"{len(want - got)} missing); rules {parsed.rules}; skipped {parsed.skipped}"
    )


def test_the_phrase_file_holds_at_least_150_phrases() -> None:
    assert len(PHRASES) >= 150
    assert len({d.lower() for d, _ in PHRASES}) == len(PHRASES)


def test_phrases_are_discriminating() -> None:
    """A phrase whose expected audience is everyone or no one could hide a wrong parse."""
    trivial = [d for d, p in PHRASES if len(expected(p)) in (0, len(CUSTOMERS))]
    assert trivial == []


def test_at_least_90_percent_of_phrases_select_the_expected_audience() -> None:
    misses = {d: why for d, p in PHRASES if (why := outcome(d, p))}
    passed = len(PHRASES) - len(misses)
    report = "\n".join(f"- {d}: {why}" for d, why in misses.items())
    assert passed / len(PHRASES) >= 0.9, f"{passed} of {len(PHRASES)} passed:\n{report}"


@pytest.mark.parametrize(
    "description",
    [
        "customers from Mumbai",
        "big spenders who haven't visited in 2 months",
        "vip customers in Bengaluru or Pune who ordered in the last 30 days",
        "new customers who joined this year and have never ordered",
        "customers with a gmail address who are tagged churn-risk",
        "people who placed more than 5 orders but haven't bought anything in the last 90 days",
    ],
)
def test_every_phrase_of_the_issue_selects_its_audience(description: str) -> None:
    predicate = dict(PHRASES)[description]
    assert outcome(description, predicate) == ""
