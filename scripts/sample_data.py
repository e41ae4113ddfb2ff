"""Realistic sample customers and orders for the ingest API, deterministic per seed.

``generate(n_customers, seed)`` returns ``(customers, orders)`` as lists of API-shaped
dicts (camelCase, ISO dates), ready for ``POST /api/customers/batch`` and
``POST /api/orders/batch`` in slices of up to 10,000; ``campaign_history(customers,
orders, seed)`` the finished campaigns of the last 90 days for
``POST /api/campaigns/history``. A third of the customers joined, and most orders were
placed, in the last 90 days, so the dashboard has a history to show.

A customer's ``totalSpends`` is its spend before these orders (in-store, historic): the
ingest worker adds its orders on top, so a customer's final total is
``totalSpends + sum(order amounts)``.

    python scripts/sample_data.py --customers 2000 --seed 7 --out .data/sample
"""

from __future__ import annotations

import argparse
import random
import sys
from bisect import bisect_left
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

# (city, IANA time zone, weight)
CITIES = [
    ("Mumbai", "Asia/Kolkata", 12),
    ("Delhi", "Asia/Kolkata", 11),
    ("Bengaluru", "Asia/Kolkata", 11),
    ("Pune", "Asia/Kolkata", 7),
    ("Hyderabad", "Asia/Kolkata", 7),
    ("Chennai", "Asia/Kolkata", 6),
    ("Kolkata", "Asia/Kolkata", 5),
    ("Ahmedabad", "Asia/Kolkata", 4),
    ("Jaipur", "Asia/Kolkata", 3),
    ("Kochi", "Asia/Kolkata", 2),
    ("London", "Europe/London", 5),
    ("New York", "America/New_York", 5),
    ("San Francisco", "America/Los_Angeles", 3),
    ("Singapore", "Asia/Singapore", 3),
    ("Dubai", "Asia/Dubai", 4),
    ("Sydney", "Australia/Sydney", 2),
    ("Toronto", "America/Toronto", 2),
    ("Berlin", "Europe/Berlin", 2),
    ("Nairobi", "Africa/Nairobi", 1),
    ("São Paulo", "America/Sao_Paulo", 1),
]
INDIAN_FIRST = [
    "Aarav", "Vivaan", "Aditya", "Arjun", "Sai", "Reyansh", "Krishna", "Ishaan", "Rohan",
    "Kabir", "Ananya", "Diya", "Aadhya", "Saanvi", "Priya", "Kavya", "Meera", "Isha",
    "Neha", "Pooja", "Rahul", "Vikram", "Sneha", "Lakshmi", "Harpreet", "Gurpreet",
    "Farhan", "Ayesha", "Zoya", "Imran", "Tanvi", "Nikhil", "Deepika", "Suresh", "Anjali",
]  # fmt: skip
INDIAN_LAST = [
    "Sharma", "Verma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Singh", "Kumar", "Rao",
    "Mehta", "Joshi", "Chatterjee", "Banerjee", "Das", "Khan", "Kapoor", "Malhotra",
    "Pillai", "Menon", "Desai", "Shah", "Agarwal", "Bose", "Kulkarni", "Gill",
]  # fmt: skip
WORLD_FIRST = [
    "Olivia", "Liam", "Emma", "Noah", "Sophia", "James", "Mia", "Lucas", "Amelia", "Ethan",
    "Chloé", "Mateo", "Yuki", "Wei", "Fatima", "Omar", "Amara", "Kwame", "Ingrid", "Lars",
    "Sofía", "Diego", "Hannah", "Jonas", "Aisha", "Chen", "Hiroshi", "Zanele", "Björn",
]  # fmt: skip
WORLD_LAST = [
    "Smith", "Johnson", "Brown", "Williams", "Garcia", "Müller", "Schmidt", "Rossi",
    "Tanaka", "Wang", "Li", "Kim", "Nguyen", "Okafor", "Mensah", "Hansen", "Larsen",
    "O'Brien", "Silva", "Santos", "Dubois", "Novak", "Cohen", "Haddad", "Ivanova",
]  # fmt: skip
# "vip" and "churn-risk" are derived from spend and last visit, the rest drawn at random
TAGS = ["new", "loyal", "newsletter", "app-user", "wholesale", "student"]
PRODUCTS = [
    ("Masala Chai 250g", 349), ("Filter Coffee 500g", 520), ("Basmati Rice 5kg", 899),
    ("Cold-pressed Oil 1L", 410), ("Cotton Kurta", 1299), ("Silk Saree", 8499),
    ("Running Shoes", 3999), ("Wireless Earbuds", 2499), ("Yoga Mat", 999),
    ("Steel Tiffin", 650), ("Ceramic Mug", 299), ("Notebook Set", 199), ("Backpack", 1799),
    ("Sunscreen SPF50", 449), ("Face Wash", 249), ("Smart Watch", 6999),
    ("Bluetooth Speaker", 2999), ("Dry Fruits Box", 1199), ("Scented Candle", 399),
    ("Phone Case", 499),
]  # fmt: skip
HISTORY_DAYS = 90
RECENT_JOINERS = 0.35
RECENT_ORDERS = 0.6
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "example.com", "rediffmail.com", "proton.me"]


def _iso(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _email_local(name: str) -> str:
    simple = name.lower().replace("'", "").replace(" ", ".")
    return "".join(c for c in simple if c.isascii() and (c.isalnum() or c == ".")) or "user"


def _joined_days_ago(rng: random.Random) -> float:
    """A third joined in the last 90 days, more of them recently (a growing shop)."""
    if rng.random() < RECENT_JOINERS:
        return HISTORY_DAYS * (1 - rng.random() ** 0.7)
    return rng.uniform(HISTORY_DAYS, 3 * 365)


def _customer(rng: random.Random, index: int, now: datetime) -> dict[str, Any]:
    city, tz, _ = rng.choices(CITIES, weights=[c[2] for c in CITIES])[0]
    indian = tz == "Asia/Kolkata" or rng.random() < 0.15
    first = rng.choice(INDIAN_FIRST if indian else WORLD_FIRST)
    last = rng.choice(INDIAN_LAST if indian else WORLD_LAST)
    name = f"{first} {last}"
    created = now - timedelta(days=_joined_days_ago(rng))
    # last visits spread over two years, skewed recent
    last_visit = now - timedelta(days=min(730, rng.expovariate(1 / 120)), hours=rng.uniform(0, 23))
    last_visit = max(last_visit, created)
    visits = max(1, int(rng.lognormvariate(2, 1)))
    spend = round(rng.lognormvariate(8, 1.2), 2)  # median ~3,000, long tail past 50,000
    customer: dict[str, Any] = {
        "id": f"cust_{index:06d}",
        "name": name,
        "email": f"{_email_local(name)}{index}@{rng.choice(DOMAINS)}",
        "totalSpends": spend,
        "visits": visits,
        "lastVisit": _iso(last_visit),
        "createdAt": _iso(created),
        "city": city,
        "timezone": tz,
    }
    if rng.random() < 0.7:
        prefix = "+91 9" if tz == "Asia/Kolkata" else "+1 555"
        customer["phone"] = f"{prefix}{rng.randrange(10**8, 10**9)}"
    tags = set(rng.sample(TAGS, k=rng.choice([0, 0, 1, 1, 2, 3])))
    if spend > 20_000:
        tags.add("vip")
    if now - last_visit > timedelta(days=180):
        tags.add("churn-risk")
    if tags:
        customer["tags"] = sorted(tags)
    if rng.random() < 0.3:
        customer["attributes"] = {
            "loyaltyTier": rng.choice(["bronze", "silver", "gold"]),
            "preferredChannel": rng.choice(["email", "sms", "whatsapp"]),
        }
    return customer


def _order_date(rng: random.Random, created: datetime, span: float, now: datetime) -> datetime:
    """Most orders fall in the last 90 days (what the dashboard shows), the rest any
    time since the customer joined."""
    recent = max(created, now - timedelta(days=HISTORY_DAYS))
    if rng.random() < RECENT_ORDERS:
        return recent + timedelta(seconds=rng.uniform(0, (now - recent).total_seconds()))
    return created + timedelta(seconds=rng.uniform(0, span))


def _orders(
    rng: random.Random, customer: dict[str, Any], start: int, now: datetime
) -> list[dict[str, Any]]:
    created = datetime.fromisoformat(customer["createdAt"].replace("Z", "+00:00"))
    span = max(1.0, (now - created).total_seconds())
    out = []
    count = min(12, int(rng.expovariate(1 / 2.5)))
    tenure = span / 86_400
    if tenure < HISTORY_DAYS:  # a new customer has had less time to order
        count = int(count * (tenure + 10) / (HISTORY_DAYS + 10) + rng.random())
    for n in range(count):
        items = rng.sample(PRODUCTS, k=rng.randint(1, 4))
        gross = sum(price * rng.randint(1, 2) for _, price in items)
        amount = round(gross * rng.uniform(0.85, 1), 2)  # discounts
        out.append(
            {
                "id": f"ord_{start + n:07d}",
                "customerId": customer["id"],
                "amount": amount,
                "items": [name for name, _ in items],
                "date": _iso(_order_date(rng, created, span, now)),
            }
        )
    return out


def generate(
    n_customers: int, seed: int = 42, now: datetime | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``n_customers`` customers and their orders; the same seed (and ``now``, by default
    today at 00:00 UTC) always gives the same data."""
    now = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rng = random.Random(seed)
    customers, orders = [], []
    for index in range(n_customers):
        customer = _customer(rng, index, now)
        customers.append(customer)
        orders.extend(_orders(rng, customer, len(orders), now))
    return customers, orders


CAMPAIGN_THEMES = [
    ("Weekend flash sale", "sms"), ("New arrivals", "email"), ("We miss you", "sms"),
    ("VIP early access", "email"), ("Festive offers", "sms"), ("Chai lovers", "email"),
    ("Back to school", "email"), ("Fitness week", "sms"), ("Loyalty points reminder", "sms"),
    ("Monsoon deals", "email"), ("App-only coupon", "sms"), ("Thank you, first order", "email"),
]  # fmt: skip
ATTRIBUTION_DAYS = 3


def campaign_history(
    customers: list[dict[str, Any]],
    orders: list[dict[str, Any]],
    seed: int = 42,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Finished campaigns of the last 90 days, about three a week, for
    ``POST /api/campaigns/history``. Ids are fixed per seed, so importing them again
    (another ``make run``, another day) adds nothing. A campaign's attributed revenue is
    a share of the orders placed in the three days after it, in proportion to whom it
    reached."""
    now = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rng = random.Random(seed * 7919 + 1)
    placed = sorted(
        (datetime.fromisoformat(o["date"].replace("Z", "+00:00")), float(o["amount"]))
        for o in orders
    )
    campaigns: list[dict[str, Any]] = []
    day = HISTORY_DAYS - 1
    while day >= 1:
        launched = now - timedelta(days=day) + timedelta(hours=rng.uniform(4, 14))
        campaigns.append(_historic_campaign(rng, len(campaigns), seed, launched, customers, placed))
        day -= rng.choice([1, 2, 2, 3, 3, 4])
    return campaigns


def _historic_campaign(
    rng: random.Random,
    index: int,
    seed: int,
    launched: datetime,
    customers: list[dict[str, Any]],
    placed: list[tuple[datetime, float]],
) -> dict[str, Any]:
    theme, channel = CAMPAIGN_THEMES[index % len(CAMPAIGN_THEMES)]
    audience = max(1, int(len(customers) * rng.uniform(0.05, 0.5)))
    delivered = int(audience * rng.uniform(0.86, 0.985))
    failed = int((audience - delivered) * rng.uniform(0.6, 1))
    until = launched + timedelta(days=ATTRIBUTION_DAYS)
    times = [at for at, _ in placed]
    window = sum(a for _, a in placed[bisect_left(times, launched) : bisect_left(times, until)])
    reached = delivered / max(1, len(customers))
    return {
        "id": f"hist_{seed}_{index:03d}",
        "name": f"{theme} ({launched:%d %b})",
        "channel": channel,
        "message": f"Hi {{firstName}}, {theme.lower()}: see what is new for you.",
        "tags": ["sample"],
        "launchedAt": _iso(launched),
        "completedAt": _iso(launched + timedelta(minutes=rng.uniform(20, 180))),
        "audienceSize": audience,
        "delivered": delivered,
        "failed": failed,
        "unknown": audience - delivered - failed,
        "attributedRevenue": round(window * reached * rng.uniform(0.2, 0.6), 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path(".data/sample"))
    args = parser.parse_args(argv)
    customers, orders = generate(args.customers, args.seed)
    campaigns = campaign_history(customers, orders, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "customers.json").write_bytes(orjson.dumps(customers))
    (args.out / "orders.json").write_bytes(orjson.dumps(orders))
    (args.out / "campaigns.json").write_bytes(orjson.dumps(campaigns))
    counts = f"{len(customers)} customers, {len(orders)} orders, {len(campaigns)} campaigns"
    sys.stdout.write(f"{counts} -> {args.out}\n")


if __name__ == "__main__":
    main()
