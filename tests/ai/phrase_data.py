"""A fixed customer base for judging the English audience parser by the audience it
selects: 300 deterministic customers (seeded), dates relative to a fixed NOW."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 6, 17, 15, 30, tzinfo=UTC)  # a Wednesday
CITIES = [
    ("Mumbai", 14), ("Delhi", 10), ("New Delhi", 4), ("Bengaluru", 12), ("Pune", 8),
    ("Hyderabad", 7), ("Chennai", 6), ("Kolkata", 5), ("Jaipur", 3), ("Kochi", 2),
    ("Gurugram", 3), ("London", 4), ("Dubai", 3), (None, 4),
]  # fmt: skip
DOMAINS = ["gmail.com", "gmail.com", "yahoo.com", "yahoo.co.in", "outlook.com", "acme.in",
           "rediffmail.com"]  # fmt: skip
TAGS = ["newsletter", "app-user", "wholesale", "student", "gold", "loyal", "new"]


@dataclass(frozen=True)
class Customer:
    id: str
    spend: float
    visits: int
    orders: int
    last_visit: datetime | None
    last_order: datetime | None
    joined: datetime
    city: str | None
    tags: tuple[str, ...]
    email: str | None
    phone: str | None

    def days(self, when: datetime | None) -> float:
        return math.inf if when is None else (NOW - when).total_seconds() / 86_400

    @property
    def visit_days(self) -> float:
        return self.days(self.last_visit)

    @property
    def order_days(self) -> float:
        return self.days(self.last_order)

    @property
    def joined_days(self) -> float:
        return self.days(self.joined)

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[1] if self.email else ""

    def doc(self) -> dict[str, Any]:
        """The customer as the AI read model holds it (store names, absent = unknown)."""
        doc: dict[str, Any] = {
            "_id": self.id,
            "total_spends": self.spend,
            "visits": self.visits,
            "order_count": self.orders,
            "last_visit": self.last_visit,
            "last_order_at": self.last_order,
            "created_at": self.joined,
            "city": self.city,
            "tags": list(self.tags),
            "email": self.email,
            "phone": self.phone,
        }
        return {k: v for k, v in doc.items() if v is not None and v != []}


def _customer(rng: random.Random, index: int) -> Customer:
    city = rng.choices([c for c, _ in CITIES], weights=[w for _, w in CITIES])[0]
    joined = NOW - timedelta(days=rng.uniform(1, 1200), hours=rng.uniform(0, 23))
    since = (NOW - joined).total_seconds() / 86_400
    visits = 0 if rng.random() < 0.06 else max(1, int(rng.lognormvariate(1.8, 0.9)))
    last_visit = (
        None
        if visits == 0
        else NOW - timedelta(days=min(since, rng.expovariate(1 / 90)), hours=rng.uniform(0, 23))
    )
    orders = 0 if rng.random() < 0.18 else max(1, int(rng.expovariate(1 / 4)))
    last_order = (
        None
        if orders == 0
        else NOW - timedelta(days=min(since, rng.expovariate(1 / 110)), hours=rng.uniform(0, 23))
    )
    spend = round(rng.lognormvariate(8.7, 1.3), 2) if orders or rng.random() < 0.3 else 0.0
    tags = set(rng.sample(TAGS, k=rng.choice([0, 0, 1, 1, 2])))
    if spend > 15_000:
        tags.add("vip")
    if last_visit is None or (NOW - last_visit).days > 120:
        tags.add("churn-risk")
    name = f"person{index}"
    email = None if rng.random() < 0.08 else f"{name}@{rng.choice(DOMAINS)}"
    phone = None if rng.random() < 0.3 else f"+91 9{rng.randrange(10**8, 10**9)}"
    return Customer(
        f"c{index:03d}", spend, visits, orders, last_visit, last_order, joined, city,
        tuple(sorted(tags)), email, phone,
    )  # fmt: skip


CUSTOMERS = [_customer(random.Random(27_000 + i), i) for i in range(300)]
DOCS = [c.doc() for c in CUSTOMERS]


def nearest_rank(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


P75_SPEND = nearest_rank([c.spend for c in CUSTOMERS], 75)
P25_SPEND = nearest_rank([c.spend for c in CUSTOMERS], 25)
P90_SPEND = nearest_rank([c.spend for c in CUSTOMERS], 90)
P75_ORDERS = max(2.0, nearest_rank([float(c.orders) for c in CUSTOMERS], 75))
P75_VISITS = max(2.0, nearest_rank([float(c.visits) for c in CUSTOMERS], 75))


def at(year: int, month: int, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def on_or_after(when: datetime | None, start: datetime) -> bool:
    return when is not None and when >= start
