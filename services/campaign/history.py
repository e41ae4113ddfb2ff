"""The dashboard over a date range, and the import of finished campaigns (history).

``GET /api/campaigns/stats/overview?from=&to=`` answers, per UTC day of the range:
messages sent/delivered/failed and the delivery rate of the campaigns launched that
day, revenue and orders placed that day, new customers and the running total. All from
this service's own collections (services.campaign.history_store).

``POST /api/campaigns/history`` records campaigns that finished elsewhere (a
migration, or the sample data's 90 days): stored completed, with their figures, under
the id the caller gives, so importing the same campaigns again changes nothing. They are
records only: nothing is sent and no stream entry is published for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from libs.common.errors import ValidationFailed
from libs.common.rules import parse_rules, to_json
from services.campaign import stats
from services.campaign.clock import maybe_from_ms, to_ms
from services.campaign.models import normalise_tags

if TYPE_CHECKING:
    from services.campaign.history_store import HistoryStore

Doc = dict[str, Any]

DEFAULT_DAYS = 14
MAX_RANGE_DAYS = 366
TOP_CAMPAIGNS = 5
MAX_IMPORT = 500
DAY_MS = 86_400_000
EVERYONE: Doc = {"operator": "AND", "conditions": []}


# -- the date range ------------------------------------------------------------------
@dataclass(frozen=True)
class DayRange:
    first: date
    last: date

    @property
    def start_ms(self) -> int:
        return to_ms(datetime(self.first.year, self.first.month, self.first.day, tzinfo=UTC))

    @property
    def end_ms(self) -> int:
        """The first millisecond after the range."""
        return self.start_ms + len(self) * DAY_MS

    def __len__(self) -> int:
        return (self.last - self.first).days + 1

    def days(self) -> list[str]:
        return [(self.first + timedelta(days=n)).isoformat() for n in range(len(self))]

    def day_of(self, ms: int) -> str | None:
        if not self.start_ms <= ms < self.end_ms:
            return None
        return (self.first + timedelta(days=(ms - self.start_ms) // DAY_MS)).isoformat()


def day_range(first: date | None, last: date | None, today: date) -> DayRange:
    """``from``..``to`` inclusive; by default the 14 days up to today (UTC)."""
    last = last or today
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationFailed(
            f"from ({first}) is after to ({last})",
            [{"field": "from", "message": "must be on or before to"}],
            code="invalid_range",
        )
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed(
            f"the range covers {(last - first).days + 1} days; at most {MAX_RANGE_DAYS}",
            [{"field": "from", "message": f"at most {MAX_RANGE_DAYS} days before to"}],
            code="range_too_long",
        )
    return DayRange(first, last)


# -- the overview --------------------------------------------------------------------
def launch_ms(doc: Doc) -> int | None:
    """The day a campaign counts on: its launch (its creation for older documents);
    a campaign still scheduled has not happened yet."""
    if doc.get("status") == "scheduled":
        return None
    value = doc.get("launched_ms", doc.get("created_ms"))
    return int(value) if value is not None else None


def _rate(delivered: int, sent: int) -> float:
    return round(100.0 * delivered / sent, 1) if sent else 0.0


def _revenue_of(doc: Doc, revenue: dict[str, float]) -> float:
    return round(revenue.get(doc["_id"], 0.0) + float(doc.get("attributed_revenue", 0.0)), 2)


def all_time(campaigns: Sequence[Doc], revenue: dict[str, float]) -> Doc:
    totals = {"campaigns": len(campaigns), "sent": 0, "delivered": 0, "failed": 0}
    for doc in campaigns:
        figures = stats.summary(doc)
        for key in ("sent", "delivered", "failed"):
            totals[key] += figures[key]
    attributed = sum(_revenue_of(d, revenue) for d in campaigns)
    return {**totals, "attributedRevenue": round(attributed, 2)}


def overview(
    span: DayRange,
    campaigns: Sequence[Doc],
    revenue: dict[str, float],
    orders: Iterable[Doc],
    created_ms: Iterable[int],
    customers_before: int,
) -> Doc:
    """The dashboard: all-time totals (``campaigns``, ``sent``...), then ``daily`` (every
    day of the range), ``range`` (its totals) and ``topCampaigns``."""
    zero = {"sent": 0, "delivered": 0, "failed": 0, "revenue": 0.0, "orders": 0, "new": 0}
    daily: dict[str, dict[str, Any]] = {d: dict(zero) for d in span.days()}
    in_range: list[tuple[Doc, Doc]] = []
    for doc in campaigns:
        day = span.day_of(launch_ms(doc) or -1)
        if day is not None:
            figures = stats.summary(doc)
            in_range.append((doc, figures))
            for key in ("sent", "delivered", "failed"):
                daily[day][key] += figures[key]
    for order in orders:
        day = span.day_of(int(order["placed_ms"]))
        if day is not None:
            daily[day]["revenue"] += float(order["amount"])
            daily[day]["orders"] += 1
    for ms in created_ms:
        day = span.day_of(ms)
        if day is not None:
            daily[day]["new"] += 1
    series, customers = [], customers_before
    for day, slot in daily.items():
        customers += slot["new"]
        series.append(_day_out(day, slot, customers))
    return {
        **all_time(campaigns, revenue),
        "from": span.first.isoformat(),
        "to": span.last.isoformat(),
        "range": _range_totals(series, len(in_range), customers),
        "daily": series,
        "topCampaigns": top_campaigns(in_range, revenue),
    }


def _day_out(day: str, slot: Doc, customers: int) -> Doc:
    return {
        "date": day,
        "sent": slot["sent"],
        "delivered": slot["delivered"],
        "failed": slot["failed"],
        # no rate on a day nothing was sent (not 0 %): a chart leaves a gap there
        "deliveryRate": _rate(slot["delivered"], slot["sent"]) if slot["sent"] else None,
        "revenue": round(slot["revenue"], 2),
        "orders": slot["orders"],
        "newCustomers": slot["new"],
        "customers": customers,
    }


def _range_totals(series: Sequence[Doc], campaigns: int, customers: int) -> Doc:
    def total(key: str) -> Any:
        return sum(d[key] for d in series)

    return {
        "campaigns": campaigns,
        "sent": total("sent"),
        "delivered": total("delivered"),
        "failed": total("failed"),
        "deliveryRate": _rate(total("delivered"), total("sent")),
        "revenue": round(total("revenue"), 2),
        "orders": total("orders"),
        "newCustomers": total("newCustomers"),
        "customers": customers,
    }


def top_campaigns(in_range: Sequence[tuple[Doc, Doc]], revenue: dict[str, float]) -> list[Doc]:
    """The range's campaigns by attributed revenue, then by messages delivered."""
    rows = [
        {
            "id": doc["_id"],
            "name": doc.get("name", doc["_id"]),
            "status": doc.get("status"),
            "channel": doc.get("channel"),
            "launchedAt": _iso(launch_ms(doc)),
            "imported": bool(doc.get("imported")),
            "sent": figures["sent"],
            "delivered": figures["delivered"],
            "deliveryRate": figures["deliveryRate"],
            "attributedRevenue": _revenue_of(doc, revenue),
        }
        for doc, figures in in_range
    ]
    rows.sort(key=lambda r: (r["attributedRevenue"], r["delivered"], r["id"]), reverse=True)
    return rows[:TOP_CAMPAIGNS]


def _iso(ms: int | None) -> str | None:
    value = maybe_from_ms(ms)
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


# -- the history import --------------------------------------------------------------
class HistoricCampaignIn(BaseModel):
    """A campaign that finished elsewhere, with its figures."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    name: str = Field(min_length=1, max_length=200)
    message: str = Field("(imported)", min_length=1, max_length=2000)
    channel: Literal["sms", "email"] | None = None
    tags: list[str] = Field(default_factory=list, max_length=20)
    segment_rules: Doc | None = Field(None, alias="segmentRules")
    launched_at: datetime = Field(alias="launchedAt")
    completed_at: datetime = Field(alias="completedAt")
    audience_size: int = Field(alias="audienceSize", ge=0, le=100_000_000)
    delivered: int = Field(ge=0)
    failed: int = Field(0, ge=0)
    unknown: int = Field(0, ge=0)
    attributed_revenue: float = Field(0.0, alias="attributedRevenue", ge=0, le=1e12)

    @field_validator("launched_at", "completed_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _consistent(self) -> HistoricCampaignIn:
        if self.completed_at < self.launched_at:
            raise ValueError("completedAt is before launchedAt")
        if self.delivered + self.failed + self.unknown > self.audience_size:
            raise ValueError("delivered + failed + unknown is more than audienceSize")
        return self


class HistoryImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaigns: list[HistoricCampaignIn] = Field(min_length=1, max_length=MAX_IMPORT)


def history_doc(item: HistoricCampaignIn, imported_by: str | None, now: datetime) -> Doc:
    """A completed campaign document; the announcement flags are set so the worker's
    scheduler never announces (or launches) what already happened."""
    if item.completed_at > now:
        raise ValidationFailed(
            f"campaign {item.id} completes in the future: only finished campaigns import",
            [{"field": "completedAt", "message": "must be in the past"}],
            code="not_finished",
        )
    launched, completed = to_ms(item.launched_at), to_ms(item.completed_at)
    counts = dict.fromkeys(stats.RANKS, 0)
    counts.update(delivered=item.delivered, failed=item.failed, unknown=item.unknown)
    counts["cancelled"] = item.audience_size - item.delivered - item.failed - item.unknown
    rules = to_json(parse_rules(item.segment_rules or EVERYONE))
    doc: Doc = {
        "_id": item.id,
        "name": item.name.strip(),
        "rules": rules,
        "message": item.message,
        "fields": [],
        "channel": item.channel,
        "tags": normalise_tags(item.tags),
        "status": "completed",
        "status_reason": "imported history",
        "created_ms": launched,
        "launched_ms": launched,
        "started_ms": launched,
        "completed_ms": completed,
        "counted_ms": completed,
        "audience_size": item.audience_size,
        "counts": counts,
        "attributed_revenue": round(item.attributed_revenue, 2),
        "imported": True,
        "imported_ms": to_ms(now),
        "imported_by": imported_by,
        "created_published": True,
        "launch_published": True,
        "completion_published": True,
    }
    return {k: v for k, v in doc.items() if v is not None and v != []}


# -- with the store (the routes call these) --------------------------------------------
def read_overview(store: HistoryStore, span: DayRange, revenue: dict[str, float]) -> Doc:
    return overview(
        span,
        store.campaign_rows(),
        revenue,
        store.orders_between(span.start_ms, span.end_ms),
        store.customers_created_between(span.start_ms, span.end_ms),
        store.customers_created_before(span.start_ms),
    )


def import_campaigns(
    store: HistoryStore, body: HistoryImport, imported_by: str | None, now: datetime
) -> Doc:
    """Store each campaign whose id is new; an id stored already is left as it is."""
    ids = [c.id for c in body.campaigns]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(
            "the same campaign id appears twice",
            [{"field": "campaigns", "message": "ids must be unique"}],
        )
    docs = [history_doc(c, imported_by, now) for c in body.campaigns]
    existing = store.import_campaigns(docs)
    return {"imported": len(docs) - len(existing), "existing": len(existing)}
