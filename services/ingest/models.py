"""Request and response models of the ingest API (camelCase on the wire).

Validation is strict (unknown fields refused, bounded strings and batches, sane dates)
but cheap: the hot path validates thousands of records per request, so checks are
pydantic-core constraints and small pure functions rather than network lookups.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

MAX_ATTRIBUTES = 50
MAX_ATTRIBUTES_BYTES = 4096
MAX_TAGS = 50
MAX_ITEMS = 200

# A syntactic check (one local part, one domain with a dot, no spaces): fast enough
# for 100k records/s, which a DNS-aware validator is not.
EMAIL_PATTERN = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"  # noqa: E501
PHONE_PATTERN = r"^\+?[0-9][0-9 ()./-]{3,24}$"
ID_PATTERN = r"^[^\s\x00-\x1f$][^\x00-\x1f]{0,127}$"


_latest: list[float | datetime] = [0.0, datetime.min.replace(tzinfo=UTC)]


def _latest_allowed() -> datetime:
    """now + 1 day (clock skew), refreshed once a second: this runs per record."""
    tick = time.monotonic()
    if tick - float(_latest[0]) > 1.0:  # type: ignore[arg-type]
        _latest[:] = [tick, datetime.now(UTC) + timedelta(days=1)]
    return _latest[1]  # type: ignore[return-value]


def _sane_date(value: datetime) -> datetime:
    try:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        elif value.utcoffset():
            value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date out of range") from None
    if value.year < 1900:
        raise ValueError("date must be after 1900-01-01")
    if value > _latest_allowed():
        raise ValueError("date must not be in the future")
    return value


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones()) | {"UTC"}


def _known_timezone(value: str) -> str:
    if value not in _timezones():
        raise ValueError(f"unknown time zone {value[:60]!r} (use an IANA name like Asia/Kolkata)")
    return value


def _bounded_attributes(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > MAX_ATTRIBUTES:
        raise ValueError(f"at most {MAX_ATTRIBUTES} attributes")
    for key in value:
        if not key or key.startswith("$") or "." in key or len(key) > 64:
            raise ValueError(f"attribute name {key[:64]!r} must be 1-64 chars, no '$' or '.'")
    if len(orjson.dumps(value)) > MAX_ATTRIBUTES_BYTES:
        raise ValueError(f"attributes must be at most {MAX_ATTRIBUTES_BYTES} bytes of JSON")
    return value


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


SaneDate = Annotated[datetime, AfterValidator(_sane_date)]


def _cents(value: float) -> float:
    return round(value, 2)


def _now() -> datetime:
    return datetime.now(UTC)


Money = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False), AfterValidator(_cents)]
Email = Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN), AfterValidator(str.lower)]
RecordId = Annotated[str, Field(min_length=1, max_length=128, pattern=ID_PATTERN)]
Tag = Annotated[str, Field(min_length=1, max_length=50)]
Item = Annotated[str, Field(min_length=1, max_length=200)]


class ApiModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        str_strip_whitespace=True,
    )


class CustomerIn(ApiModel):
    id: RecordId
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Email
    phone: Annotated[str, Field(pattern=PHONE_PATTERN)] | None = None
    total_spends: Money
    visits: Annotated[int, Field(ge=0, le=10_000_000)]
    last_visit: SaneDate | None = None
    created_at: SaneDate | None = None
    tags: Annotated[
        list[Tag], Field(max_length=MAX_TAGS, default_factory=list), AfterValidator(_unique)
    ]
    city: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    timezone: Annotated[str, Field(max_length=64), AfterValidator(_known_timezone)] | None = None
    attributes: Annotated[
        dict[str, Any], Field(default_factory=dict), AfterValidator(_bounded_attributes)
    ]


class OrderIn(ApiModel):
    id: RecordId
    customer_id: RecordId
    amount: Money
    items: Annotated[list[Item], Field(max_length=MAX_ITEMS, default_factory=list)]
    date: Annotated[SaneDate, Field(default_factory=_now)]  # undated: dated on receipt


class RejectedItem(BaseModel):
    index: int
    id: str | None = None
    errors: list[dict[str, str]]


class IngestAnswer(BaseModel):
    accepted: int
    rejected: list[RejectedItem] = []
    entry_ids: list[str] = Field(serialization_alias="entryIds")


class PreviewIn(ApiModel):
    rules: dict[str, Any]
    sample_size: Annotated[int, Field(ge=0, le=100)] = 20


def openapi_body(model: type[BaseModel], batch_key: str | None = None) -> dict[str, Any]:
    """The request body these routes parse by hand, described for the OpenAPI docs."""
    schema: dict[str, Any] = model.model_json_schema(by_alias=True)
    if batch_key:
        schema = {
            "type": "object",
            "properties": {
                batch_key: {"type": "array", "items": schema, "minItems": 1, "maxItems": 10_000}
            },
            "required": [batch_key],
            "additionalProperties": False,
        }
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


def error_list(exc: Any) -> list[dict[str, str]]:
    """pydantic errors as [{field, message}] with camelCase field paths."""
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err.get("loc", ()))
        out.append({"field": loc or "(record)", "message": str(err.get("msg"))})
    return out


_SNAKE = re.compile(r"_([a-z])")


def camel(name: str) -> str:
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)
