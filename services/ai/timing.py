"""Send-time advice from engagement times (delivery receipts, orders), in local time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Common retail-messaging practice, used when the data cannot speak yet.
DEFAULT_WINDOWS = (("Tuesday", 10), ("Thursday", 10), ("Tuesday", 18), ("Thursday", 19))


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_slots(
    events: Iterable[tuple[str, datetime]], timezones: dict[str, str]
) -> tuple[Counter[tuple[int, int]], Counter[tuple[int, int, str]], int]:
    """Histogram of (weekday, hour) in each customer's zone (UTC when unknown)."""
    slots: Counter[tuple[int, int]] = Counter()
    zones: Counter[tuple[int, int, str]] = Counter()
    known = 0
    cache: dict[str, ZoneInfo | None] = {}
    for customer_id, at in events:
        name = timezones.get(customer_id) or ""
        if name not in cache:
            cache[name] = _zone(name)
        zone = cache[name]
        moment = at if at.tzinfo else at.replace(tzinfo=UTC)
        local = moment.astimezone(zone) if zone else moment.astimezone(UTC)
        known += zone is not None
        key = (local.weekday(), local.hour)
        slots[key] += 1
        zones[(*key, name if zone else "UTC")] += 1
    return slots, zones, known


def recommend(
    deliveries: list[tuple[str, datetime]],
    orders: list[tuple[str, datetime]],
    timezones: dict[str, str],
    *,
    min_events: int = 50,
    top: int = 3,
) -> dict[str, object]:
    events = deliveries + orders
    slots, zones, known = local_slots(events, timezones)
    total = len(events)
    evidence = {"deliveryReceipts": len(deliveries), "orders": len(orders), "total": total}
    if total < min_events:
        return {
            "recommendations": [
                {
                    "dayOfWeek": day,
                    "hour": hour,
                    "timezone": "customer local time",
                    "score": None,
                    "evidence": 0,
                    **zone_meaning(day, hour, 0, Counter()),
                }
                for day, hour in DEFAULT_WINDOWS
            ],
            "isDefault": True,
            "evidence": evidence,
            "explanation": (
                f"Only {total} engagement events are known for this audience (at least "
                f"{min_events} are needed), so these are general defaults: Tuesday and "
                "Thursday mornings (10:00-11:00) and early evenings (18:00-20:00), "
                "customer local time."
            ),
        }
    best = max(slots.values())
    ranked = sorted(slots.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    recommendations = []
    for (day, hour), count in ranked:
        cell_zones = Counter({z: n for (d, h, z), n in zones.items() if (d, h) == (day, hour)})
        zone = cell_zones.most_common(1)[0][0] if len(cell_zones) == 1 else "customer local time"
        recommendations.append(
            {
                "dayOfWeek": DAYS[day],
                "hour": hour,
                "timezone": zone,
                "score": round(count / best, 3),
                "evidence": count,
                **zone_meaning(DAYS[day], hour, count, cell_zones),
            }
        )
    first = recommendations[0]
    share = f"{known / total:.0%}" if total else "0%"
    return {
        "recommendations": recommendations,
        "isDefault": False,
        "evidence": evidence,
        "explanation": (
            f"Based on {total:,} engagement events ({len(deliveries):,} delivery receipts, "
            f"{len(orders):,} orders). {_zones_known(known, total, share)} "
            f"Engagement peaks on {first['label']} "
            f"({first['evidence']:,} events at that hour)."
        ),
    }


def _zones_known(known: int, total: int, share: str) -> str:
    if known == 0:
        return "No customer's time zone is known, so times are UTC."
    if known == total:
        return "Times are in each customer's own time zone."
    return f"Times are in each customer's own time zone where known ({share}), else UTC."


def zone_meaning(day: str, hour: int, count: int, cell_zones: Counter[str]) -> dict[str, object]:
    """Labels for one recommended hour, and which zone one scheduled send should use.

    One campaign leaves at one moment: 20:00 "customer local time" is 20:00 only for
    customers in the zone it is scheduled in, so the answer names that zone and the share
    of this hour's engagement it covers.
    """
    total = sum(cell_zones.values())
    shares = [{"timezone": z, "share": round(n / total, 3)} for z, n in cell_zones.most_common(3)]
    single = len(cell_zones) == 1
    where = f"in {shares[0]['timezone']}" if single else "in each customer's own time zone"
    events = "event" if count == 1 else "events"
    return {
        "label": f"{day} {hour:02d}:00 {where}",
        "evidenceLabel": (
            f"{count:,} engagement {events} at this hour" if count else "a general default"
        ),
        "zones": shares,
        "scheduleZone": shares[0]["timezone"] if shares else None,
        "scheduleShare": shares[0]["share"] if shares else None,
    }
