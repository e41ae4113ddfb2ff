"""What the English audience parser knows about this customer base: spend and activity
distributions (so "big spenders" means the top quarter *here*), the cities, tags and
email domains in use, and the clock. Built from the AI service's own read model
(AiStore.customers()), never from another service's database.

Percentiles are nearest-rank: the p-th percentile of n sorted values is the value at
rank ceil(p/100 * n) (1-based). "Top 25% by spend" is then ``total spend > p75``
(customers tied with the threshold are not in the top quarter); for whole-number counts
(orders, visits) ties are common, so "top 25% by orders" is ``orders >= p75``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Major Indian (and a few world) cities, each with the spellings people use for it.
# A spelling found in the data wins; the first spelling is used when the data has none.
CITY_ALIASES: tuple[tuple[str, ...], ...] = (
    ("Mumbai", "Bombay"),
    ("Delhi",),
    ("New Delhi",),
    ("Bengaluru", "Bangalore", "Blr"),
    ("Hyderabad",),
    ("Chennai", "Madras"),
    ("Kolkata", "Calcutta"),
    ("Pune", "Poona"),
    ("Ahmedabad",),
    ("Jaipur",),
    ("Surat",),
    ("Lucknow",),
    ("Kanpur",),
    ("Nagpur",),
    ("Indore",),
    ("Bhopal",),
    ("Patna",),
    ("Vadodara", "Baroda"),
    ("Ludhiana",),
    ("Agra",),
    ("Nashik",),
    ("Coimbatore",),
    ("Kochi", "Cochin"),
    ("Thiruvananthapuram", "Trivandrum"),
    ("Chandigarh",),
    ("Guwahati",),
    ("Goa",),
    ("Mysuru", "Mysore"),
    ("Gurugram", "Gurgaon"),
    ("Noida",),
    ("Navi Mumbai",),
    ("Thane",),
    ("Bhubaneswar",),
    ("Visakhapatnam", "Vizag"),
    ("Dehradun",),
    ("Ranchi",),
    ("Raipur",),
    ("Madurai",),
    ("Vijayawada",),
    ("Rajkot",),
    ("Amritsar",),
    ("Varanasi", "Benares"),
    ("Ghaziabad",),
    ("Faridabad",),
    ("London",),
    ("New York", "NYC"),
    ("San Francisco", "SF"),
    ("Singapore",),
    ("Dubai",),
    ("Sydney",),
    ("Toronto",),
    ("Berlin",),
)


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of already sorted values (None when there are none)."""
    if not values:
        return None
    rank = max(1, math.ceil(pct / 100 * len(values)))
    return values[min(rank, len(values)) - 1]


@dataclass(frozen=True)
class AudienceFacts:
    now: datetime
    spends: list[float] = field(default_factory=list)  # sorted ascending
    orders: list[float] = field(default_factory=list)
    visits: list[float] = field(default_factory=list)
    cities: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    @property
    def size(self) -> int:
        return len(self.spends)

    def city_spellings(self) -> dict[str, list[str]]:
        """lower-case spelling a user may type -> the city values it selects."""
        known = {c.lower(): c for c in self.cities}
        out: dict[str, list[str]] = {}
        for group in CITY_ALIASES:
            in_data = [known[s.lower()] for s in group if s.lower() in known]
            for spelling in group:
                out[spelling.lower()] = in_data or [group[0]]
        for lower, city in known.items():
            out.setdefault(lower, [city])
        return out


def facts_from_customers(customers: Iterable[dict[str, Any]], now: datetime) -> AudienceFacts:
    """Facts of customer documents in rule-engine store names (total_spends, city...)."""
    spends: list[float] = []
    orders: list[float] = []
    visits: list[float] = []
    cities: set[str] = set()
    tags: set[str] = set()
    domains: set[str] = set()
    for doc in customers:
        spends.append(float(doc.get("total_spends") or 0))
        orders.append(float(doc.get("order_count") or 0))
        visits.append(float(doc.get("visits") or 0))
        if isinstance(doc.get("city"), str):
            cities.add(doc["city"])
        tags.update(t for t in doc.get("tags") or [] if isinstance(t, str))
        email = doc.get("email")
        if isinstance(email, str) and "@" in email:
            domains.add(email.rsplit("@", 1)[1].lower())
    return AudienceFacts(
        now=now.astimezone(UTC),
        spends=sorted(spends),
        orders=sorted(orders),
        visits=sorted(visits),
        cities=frozenset(cities),
        tags=frozenset(tags),
        domains=frozenset(domains),
    )
