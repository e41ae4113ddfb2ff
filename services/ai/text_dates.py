"""Calendar dates in audience descriptions: "this year", "since March", "since 1 March
2025", "haven't ordered since last year", and for joining (which happens once, so a span
is exact) "in 2025", "in March", "last year", "before 2024". All in UTC, relative to
``facts.now``; a month or day without a year is its latest occurrence not after now."""

from __future__ import annotations

import re
from calendar import month_name
from datetime import UTC, datetime, timedelta

from services.ai.text_slots import Recogniser, Slots, day, iso
from services.ai.text_vocab import ORDER, VISIT, Rule, cond

JOIN = (
    r"joined(?: us)?|signed up|registered|became (?:a )?customers?|were acquired|acquired"
    r"|onboarded|came on ?board|sign-?ups?"
)
MONTHS = {name.lower(): i for i, name in enumerate(month_name) if name}
MONTHS.update({name[:3]: i for name, i in list(MONTHS.items())})
MONTHS["sept"] = 9
MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
YEAR = r"(?P<year>(?:19|20)\d{2})"
UNITS = r"(?P<per>week|month|quarter|year)"
POINT = (
    rf"(?:(?:the\s+)?(?:start|beginning)\s+of\s+(?:this|the)\s+{UNITS}"
    rf"|(?P<lastper>last|previous)\s+(?P<per2>week|month|quarter|year)"
    rf"|(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})"
    rf"|{DAY}\s+(?:of\s+)?(?P<mon>{MONTH_RE})(?:,?\s+{YEAR})?"
    rf"|(?P<mon2>{MONTH_RE})(?:\s+(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?)?(?:,?\s+(?P<year2>(?:19|20)\d{{2}}))?"
    rf"|(?P<year3>(?:19|20)\d{{2}}))\b"
)
THIS = (
    r"(?:(?:in\s+|during\s+)?(?:this|the current)\s+(?P<this>week|month|quarter|year)"
    r"|(?P<today>today))"
)
OBJECT = r"(?:us\s+|with us\s+|something\s+|anything\s+|at least once\s+|at all\s+)?"


# -- dates -----------------------------------------------------------------------------
def _start_of(per: str, now: datetime, back: int = 0) -> datetime:
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if per == "day":
        return day - timedelta(days=back)
    if per == "week":
        return day - timedelta(days=day.weekday() + 7 * back)
    if per == "year":
        return day.replace(year=day.year - back, month=1, day=1)
    months = 3 if per == "quarter" else 1
    index = day.year * 12 + day.month - 1
    index = index - index % months - back * months if per == "quarter" else index - back
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def _point(match: re.Match[str], now: datetime) -> datetime | None:
    g = match.groupdict()
    if g.get("per"):
        return _start_of(g["per"], now)
    if g.get("per2"):
        return _start_of(g["per2"], now, back=1)
    try:
        if g.get("iso"):
            return datetime.fromisoformat(g["iso"]).replace(tzinfo=UTC)
        if g.get("year3"):
            return datetime(int(g["year3"]), 1, 1, tzinfo=UTC)
        month = MONTHS[g.get("mon") or g["mon2"]]
        day = int(g.get("day") or g.get("day2") or 1)
        year = g.get("year") or g.get("year2")
        if year:
            return datetime(int(year), month, day, tzinfo=UTC)
        point = datetime(now.year, month, day, tzinfo=UTC)
        return point if point <= now else point.replace(year=now.year - 1)
    except ValueError:  # 31 February
        return None


def _field(verb: str) -> str:
    if re.fullmatch(JOIN, verb):
        return "createdAt"
    if re.fullmatch(ORDER, verb):
        return "lastOrderAt"
    return "lastVisit"


def _since(field_name: str, start: datetime) -> list[Rule]:
    return [cond(field_name, ">=", iso(start))]


def _not_since(field_name: str, start: datetime) -> list[Rule]:
    return [
        {
            "operator": "OR",
            "conditions": [cond(field_name, "<", iso(start)), cond(field_name, "exists", False)],
        }
    ]


def _when_start(match: re.Match[str], now: datetime) -> datetime | None:
    """The start of "this month", "today", or the point after "since"."""
    g = match.groupdict()
    if g.get("today"):
        return _start_of("day", now)
    if g.get("this"):
        return _start_of(g["this"], now)
    return _point(match, now)


def did_since(match: re.Match[str], slots: Slots) -> str | None:
    field_name = _field(match.group("verb"))
    start = _when_start(match, slots.facts.now)
    if start is None:
        return None
    slots.explicit_join |= field_name == "createdAt"
    phrase = match.group("when").strip()
    return slots.add(
        _since(field_name, start), f"'{phrase}' is read as on or after {day(start)} (UTC)"
    )


def not_since(match: re.Match[str], slots: Slots) -> str | None:
    field_name = _field(match.group("verb"))
    start = _when_start(match, slots.facts.now)
    if start is None:
        return None
    phrase = match.group("when").strip()
    return slots.add(
        _not_since(field_name, start),
        f"'{phrase}' is read as {day(start)} (UTC); customers who never did are included",
    )


def joined_in(match: re.Match[str], slots: Slots) -> str | None:
    """Joining happens once, so a calendar span is exact: in 2025, in March, last year."""
    now = slots.facts.now
    g = match.groupdict()
    if g.get("jper"):
        start, end = _start_of(g["jper"], now, back=1), _start_of(g["jper"], now)
    elif g.get("jyear2"):
        start = datetime(int(g["jyear2"]), 1, 1, tzinfo=UTC)
        end = start.replace(year=start.year + 1)
    else:
        month = MONTHS[g["jmon"]]
        year = int(g["jyear"]) if g.get("jyear") else now.year
        start = datetime(year, month, 1, tzinfo=UTC)
        if not g.get("jyear") and start > now:
            start = start.replace(year=year - 1)
        end = datetime(start.year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    slots.explicit_join = True
    phrase = match.group("when").strip()
    return slots.add(
        [cond("createdAt", ">=", iso(start)), cond("createdAt", "<", iso(end))],
        f"'{phrase}' is read as from {day(start)} to before {day(end)} (UTC)",
    )


def joined_before(match: re.Match[str], slots: Slots) -> str | None:
    start = _point(match, slots.facts.now)
    if start is None:
        return None
    slots.explicit_join = True
    op = "<" if match.group("rel") == "before" else ">="
    word = "before" if op == "<" else "on or after"
    return slots.add([cond("createdAt", op, iso(start))], f"joined {word} {day(start)} (UTC)")


def last_at(match: re.Match[str], slots: Slots) -> str | None:
    start = _point(match, slots.facts.now)
    if start is None:
        return None
    verb = match.group("what")
    field_name = "lastVisit" if verb.startswith("visit") else "lastOrderAt"
    op = "<" if match.group("rel") == "before" else ">="
    return slots.add(
        [cond(field_name, op, iso(start))], f"'{match.group(0).strip()}': {day(start)} (UTC)"
    )


def date_recognisers() -> list[tuple[str, Recogniser]]:
    when_since = rf"(?P<when>since\s+{POINT}|{THIS})"
    return [
        (
            rf"\b(?:not|never|no longer)\s+(?:been\s+)?(?P<verb>{ORDER}|{VISIT})\s+"
            rf"{OBJECT}{when_since}",
            not_since,
        ),
        (
            rf"\blast\s+(?P<what>visit|order|purchase)(?:e?d)?\s+(?:was\s+|date\s+)?"
            rf"(?P<rel>before|after|since)\s+{POINT}",
            last_at,
        ),
        (
            rf"\b(?:{JOIN})\s+(?P<rel>before|after)\s+{POINT}",
            joined_before,
        ),
        (
            rf"\b(?:{JOIN})\s+(?P<when>(?:in|during)\s+(?:(?P<jmon>{MONTH_RE})(?:\s+(?P<jyear>(?:19|20)\d{{2}}))?"
            rf"|(?P<jyear2>(?:19|20)\d{{2}}))"
            r"|(?:in\s+|during\s+)?(?:last|the previous)\s+(?P<jper>week|month|quarter|year))\b",
            joined_in,
        ),
        (
            rf"\b(?:have\s+|has\s+)?(?P<verb>{JOIN}|{ORDER}|{VISIT})\s+{OBJECT}{when_since}",
            did_since,
        ),
    ]
