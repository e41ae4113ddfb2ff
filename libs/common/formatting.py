"""Numbers, money and dates in the workspace's currency and locale (Babel, CLDR data):
en-IN groups digits the Indian way (₹1,23,456.00), en-US as 123,456.00, de-DE as
123.456,00. Used by message templates, so the UI preview and delivery read alike."""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, get_currency_name, parse_pattern

DATE_STYLES = ("short", "medium", "long", "full")


@dataclass(frozen=True)
class WorkspaceFormat:
    """The workspace's currency (ISO 4217 code) and locale (BCP 47 tag, en-IN)."""

    currency: str = "INR"
    locale: str = "en-IN"

    def __post_init__(self) -> None:
        check_format(self.currency, self.locale)


@lru_cache(maxsize=64)
def _locale(tag: str) -> Locale:
    return Locale.parse(tag.replace("-", "_"))


def check_format(currency: str, locale: str) -> None:
    """ValueError unless the locale is known to CLDR and the currency is an ISO code."""
    try:
        parsed = _locale(locale)
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(f"unknown locale {locale!r}; use a tag such as en-IN or en-US") from None
    if len(currency) != 3 or not currency.isupper():
        raise ValueError(f"currency must be an ISO 4217 code such as INR, got {currency!r}")
    if get_currency_name(currency, locale=parsed) == currency:
        raise ValueError(f"unknown currency {currency!r}")


def as_number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value.replace(",", ""))
        except ValueError:
            return None
    return None


def as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return as_date(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def money(value: float | int, fmt: WorkspaceFormat, currency: str | None = None) -> str:
    return str(format_currency(value, currency or fmt.currency, locale=_locale(fmt.locale)))


def number(value: float | int, fmt: WorkspaceFormat) -> str:
    """Whole numbers without decimals, others with two (15,000 and 40,459.87), grouped
    as the locale groups (en-IN: 1,23,456)."""
    locale = _locale(fmt.locale)
    pattern = copy(parse_pattern(locale.decimal_formats[None]))
    decimals = 0 if float(value).is_integer() else 2
    pattern.frac_prec = (decimals, decimals)
    return str(pattern.apply(Decimal(str(value)), locale))


def day(value: date, fmt: WorkspaceFormat, style: str = "medium") -> str:
    """A calendar day in the locale: 26 Nov 2026 (en-IN, medium)."""
    return str(format_date(value, format=style, locale=_locale(fmt.locale)))
