"""Request and response models of the ingest API (camelCase on the wire).

Validation is strict (unknown fields refused, bounded strings and batches, sane dates)
but cheap: the hot path validates thousands of records per request, so checks are
pydantic-core constraints and small pure functions rather than network lookups.
"""

from __future__ import annotations

import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal, NotRequired

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

MAX_ATTRIBUTES = 50
MAX_ATTRIBUTES_BYTES = 4096
MAX_TAGS = 50
MAX_ITEMS = 200
MAX_ATTRIBUTE_DEPTH = 20  # MongoDB refuses documents nested past 100 levels
# Control characters (NUL...) and the bidi embeddings, overrides and isolates, which
# turn "Ann" into text that reads differently from what it is in an SMS or on screen.
UNSAFE_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# A syntactic check (one local part, one domain with a dot, no spaces): fast enough
# for 100k records/s, which a DNS-aware validator is not.
EMAIL_PATTERN = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"  # noqa: E501
PHONE_PATTERN = r"^\+?[0-9][0-9 ()./-]{3,24}$"
ID_PATTERN = r"^[^\s\x00-\x1f$][^\x00-\x1f]{0,127}$"


_latest: list[float | datetime] = [0.0, datetime.min.replace(tzinfo=UTC)]


def latest_allowed() -> datetime:
    """now + 1 day (clock skew), refreshed once a second: this runs per request."""
    tick = time.monotonic()
    if tick - float(_latest[0]) > 1.0:  # type: ignore[arg-type]
        _latest[:] = [tick, datetime.now(UTC) + timedelta(days=1)]
    return _latest[1]  # type: ignore[return-value]


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


def sane_date(value: datetime, latest: datetime) -> datetime:
    """The date in UTC (naive dates are read as UTC), between 1900 and ``latest``.

    Every date is moved to ``datetime.UTC``, the tzinfo that ``fromisoformat`` gives
    "Z" and "+00:00" dates: two datetimes with the same tzinfo object compare without
    calling ``utcoffset()``."""
    if value.tzinfo is not UTC:
        try:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:
            raise ValueError("date out of range") from None
    if EARLIEST <= value <= latest:
        return value
    if value < EARLIEST:
        raise ValueError("date must be after 1900-01-01")
    raise ValueError("date must not be in the future")


_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def parse_date(value: Any, latest: datetime) -> datetime:
    """A date field's value (ISO 8601 text, a unix timestamp, a datetime) as a sane UTC
    datetime; raises ValueError (pydantic's ValidationError is one) when it is none.

    ``datetime.fromisoformat`` reads ISO text in ~0.3 us, a fifth of what pydantic's
    parse plus the move to UTC cost (its TzInfo answers ``utcoffset()`` slowly);
    pydantic reads what fromisoformat refuses, so the accepted inputs are its own."""
    parsed: datetime
    if type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = _DATETIME.validate_python(value)
    elif isinstance(value, datetime):
        parsed = value
    else:
        parsed = _DATETIME.validate_python(value)
    if parsed.tzinfo is UTC and EARLIEST <= parsed <= latest:
        return parsed
    return sane_date(parsed, latest)


def round_cents(value: float) -> float:
    """``round(value, 2)``, without its ~0.7 us when ``value`` already has cents at most.

    If k/100 (k = round(value * 100)) is ``value``, value is the double nearest a
    two-decimal number, and round(value, 2) gives it back unchanged (exact below 2**53
    cents; Money stops at 1e12)."""
    if round(value * 100) / 100 == value:
        return value
    return round(value, 2)


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones()) | {"UTC"}


def _known_timezone(value: str) -> str:
    if value not in _timezones():
        raise ValueError(f"unknown time zone {value[:60]!r} (use an IANA name like Asia/Kolkata)")
    return value


def clean_text(value: str) -> str:
    """``value`` in NFC (so a search typed either way finds it); ValueError naming the
    first control or bidi-override character."""
    found = UNSAFE_TEXT.search(value)
    if found:
        raise ValueError(f"contains the control character U+{ord(found.group()):04X}")
    return value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize("NFC", value)


def _check_attribute_keys(value: Any, depth: int) -> None:
    """Every key at every level (MongoDB reads '$' and '.' in keys as operators and
    paths), and no control characters in the text values."""
    if depth > MAX_ATTRIBUTE_DEPTH:
        raise ValueError(f"attributes may nest at most {MAX_ATTRIBUTE_DEPTH} levels")
    children = value.values() if isinstance(value, dict) else value
    if isinstance(value, dict):
        for key in value:
            if not key or key.startswith("$") or "." in key or len(key) > 64:
                raise ValueError(f"attribute name {key[:64]!r} must be 1-64 chars, no '$' or '.'")
    for child in children:
        if isinstance(child, dict | list):
            _check_attribute_keys(child, depth + 1)
        elif isinstance(child, str) and (found := UNSAFE_TEXT.search(child)):
            raise ValueError(
                f"an attribute contains the control character U+{ord(found.group()):04X}"
            )


def _bounded_attributes(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > MAX_ATTRIBUTES:
        raise ValueError(f"at most {MAX_ATTRIBUTES} attributes")
    try:
        encoded = orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits: neither orjson nor BSON can hold it
        raise ValueError("attribute numbers must fit in 64 bits") from None
    if len(encoded) > MAX_ATTRIBUTES_BYTES:
        raise ValueError(f"attributes must be at most {MAX_ATTRIBUTES_BYTES} bytes of JSON")
    _check_attribute_keys(value, 1)
    return value


Money = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
Email = Annotated[str, StringConstraints(max_length=254, pattern=EMAIL_PATTERN, to_lower=True)]
RecordId = Annotated[str, Field(min_length=1, max_length=128, pattern=ID_PATTERN)]
Tag = Annotated[str, Field(min_length=1, max_length=50)]
Item = Annotated[str, Field(min_length=1, max_length=200)]
# read by parse_date in the finish pass, which refuses what is not a date
DateValue = Annotated[Any, WithJsonSchema({"type": "string", "format": "date-time"})]

API_CONFIG = ConfigDict(
    extra="forbid",
    alias_generator=to_camel,
    populate_by_name=True,
    str_strip_whitespace=True,
)


class ApiModel(BaseModel):
    model_config = API_CONFIG


# Records are TypedDicts, not models: validated in Rust straight from the request bytes
# and serialised by orjson, with no model instance per record. Python callbacks are
# kept for fields that are rarely present; the checks every record needs and that
# pydantic-core cannot express (dates against the clock, rounding, unique tags) run in
# one plain pass afterwards (finish_customer / finish_order), which costs a fraction
# of per-field validator calls on the 100k records/s path.
ConsentState = Literal["subscribed", "unsubscribed", "unknown"]


class ConsentIn(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    email: NotRequired[ConsentState]
    sms: NotRequired[ConsentState]


class CustomerIn(TypedDict):
    __pydantic_config__ = API_CONFIG  # type: ignore[misc]
    id: RecordId
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Email
    phone: NotRequired[Annotated[str, Field(pattern=PHONE_PATTERN)] | None]
    total_spends: Money
    visits: Annotated[int, Field(ge=0, le=10_000_000)]
    last_visit: NotRequired[DateValue | None]
    created_at: NotRequired[DateValue | None]
    tags: NotRequired[Annotated[list[Tag], Field(max_length=MAX_TAGS)]]
    city: NotRequired[Annotated[str, Field(min_length=1, max_length=100)] | None]
    timezone: NotRequired[
        Annotated[str, Field(max_length=64), AfterValidator(_known_timezone)] | None
    ]
    attributes: NotRequired[Annotated[dict[str, Any], AfterValidator(_bounded_attributes)]]
    consent: NotRequired[ConsentIn]


class OrderIn(TypedDict):
    __pydantic_config__ = API_CONFIG  # type: ignore[misc]
    id: RecordId
    customer_id: RecordId
    amount: Money
    items: NotRequired[Annotated[list[Item], Field(max_length=MAX_ITEMS)]]
    date: NotRequired[DateValue]  # undated: dated on receipt


class CustomersBatch(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    customers: Annotated[list[CustomerIn], Field(min_length=1)]


class OrdersBatch(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    orders: Annotated[list[OrderIn], Field(min_length=1)]


Problems = list[dict[str, str]]
NO_PROBLEMS: Problems = []


def _check_date(record: Any, name: str, alias: str, latest: datetime) -> Problems:
    try:
        record[name] = parse_date(record[name], latest)
    except ValidationError as exc:
        return [{"field": alias, "message": str(exc.errors()[0]["msg"])}]
    except ValueError as exc:
        return [{"field": alias, "message": f"Value error, {exc}"}]
    return NO_PROBLEMS


def _clean_texts(record: Any, fields: tuple[tuple[str, str], ...]) -> Problems:
    problems: Problems = []
    for name, alias in fields:
        value = record.get(name)
        try:
            if isinstance(value, str):
                record[name] = clean_text(value)
            elif isinstance(value, list):
                record[name] = [clean_text(v) for v in value]
        except ValueError as exc:
            problems.append({"field": alias, "message": f"Value error, {exc}"})
    return problems


_CUSTOMER_TEXTS = (("name", "name"), ("city", "city"), ("tags", "tags"))


def finish_customer(record: CustomerIn, latest: datetime) -> Problems:
    """Normalise a validated customer in place; the problems that refuse it."""
    record["total_spends"] = round_cents(record["total_spends"])
    problems = _clean_texts(record, _CUSTOMER_TEXTS) or NO_PROBLEMS
    tags = record.get("tags")
    if tags is not None and len(tags) > 1:
        record["tags"] = list(dict.fromkeys(tags))
    if record.get("last_visit") is not None:
        problems = problems + _check_date(record, "last_visit", "lastVisit", latest)
    if record.get("created_at") is not None:
        problems = problems + _check_date(record, "created_at", "createdAt", latest)
    return problems


def finish_order(record: OrderIn, latest: datetime) -> Problems:
    """Normalise a validated order in place; the problems that refuse it."""
    record["amount"] = round_cents(record["amount"])
    problems = _clean_texts(record, (("items", "items"),)) or NO_PROBLEMS
    if "date" not in record:
        record["date"] = datetime.now(UTC)
        return problems
    return problems + _check_date(record, "date", "date", latest)


class RejectedItem(BaseModel):
    index: int
    id: str | None = None
    errors: list[dict[str, str]]


class DuplicateOrder(BaseModel):
    id: str
    reason: str


class IngestAnswer(BaseModel):
    accepted: int
    rejected: list[RejectedItem] = []
    # orders only: later versions of an order id, not applied (services.ingest.orders)
    duplicates: list[DuplicateOrder] = []
    entry_ids: list[str] = Field(serialization_alias="entryIds")


class PreviewIn(ApiModel):
    rules: dict[str, Any]
    sample_size: Annotated[int, Field(ge=0, le=100)] = 20
    # the campaign's channel: its unsubscribed people and suppressed addresses are left
    # out (none given: email, as delivery picks for a campaign without one)
    channel: Literal["email", "sms"] | None = None
    # when the campaign would leave (none: now): quiet hours and caps are read then
    send_at: AwareDatetime | None = None


def openapi_body(record: type, batch_key: str | None = None) -> dict[str, Any]:
    """The request body these routes parse by hand and their Idempotency-Key header,
    described for the OpenAPI docs."""
    schema: dict[str, Any] = TypeAdapter(record).json_schema(by_alias=True)
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
    return {"requestBody": {"required": True, "content": content}, "parameters": [IDEMPOTENCY]}


# read by the route itself (it takes the Request only), so described here
IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "a retried request with the same key gets the first answer again",
}


def error_list(exc: Any) -> list[dict[str, str]]:
    """pydantic errors as [{field, message}] with camelCase field paths."""
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err.get("loc", ()))
        out.append({"field": loc or "(record)", "message": str(err.get("msg"))})
    return out
