"""Message templates: ``{field}`` placeholders from a whitelist, with optional filters
from a whitelist, rendered without ``str.format``.

    Hi {firstName|default:"there"}, you have spent {totalSpends|currency} since
    {lastVisit|date:"long"}.

Filters: ``currency`` (number fields; the workspace currency, or a quoted ISO code
argument such as ``currency:"USD"``), ``number`` (number fields, grouped as the locale
groups), ``date`` (date fields; optional style "short", "medium", "long" or "full"),
``default:"text"`` (any field: the text when the value is missing). A filter argument
is a quoted literal and nothing else. Attribute access, indexing, positional fields,
conversions and format specs (``{name.__class__}``, ``{0}``, ``{name!r}``,
``{name:>10}``) are refused when a template is parsed, and rendering only ever
substitutes formatted values. ``{{`` and ``}}`` stand for literal braces.

Without a filter a number is grouped as the locale groups and a date is shown as a
medium date in the locale; a missing value is empty (``name``/``firstName``: "there").
One renderer serves delivery and the UI preview (``POST /api/campaigns/message-preview``)
so they cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from libs.common.errors import ValidationFailed
from libs.common.formatting import DATE_STYLES, WorkspaceFormat, as_date, as_number, day, money
from libs.common.formatting import number as format_number

MAX_TEMPLATE_LENGTH = 2000
MAX_ARGUMENT_LENGTH = 100
MAX_FILTERS = 3

# placeholder -> customer document path (None: derived from other fields)
PLACEHOLDERS: dict[str, str | None] = {
    "name": "name",
    "firstName": None,
    "email": "email",
    "phone": "phone",
    "city": "city",
    "totalSpends": "total_spends",
    "visits": "visits",
    "orderCount": "order_count",
    "lastVisit": "last_visit",
    "lastOrderAt": "last_order_at",
    # the person's own unsubscribe link, signed by delivery (libs/common/unsubscribe.py)
    "unsubscribeUrl": None,
}
NUMBER_FIELDS = frozenset({"totalSpends", "visits", "orderCount"})
DATE_FIELDS = frozenset({"lastVisit", "lastOrderAt"})
# filter -> the placeholders it applies to (None: any)
FILTERS: dict[str, frozenset[str] | None] = {
    "currency": NUMBER_FIELDS,
    "number": NUMBER_FIELDS,
    "date": DATE_FIELDS,
    "default": None,
}

_DEFAULTS = {"name": "there", "firstName": "there"}
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_FILTER = re.compile(r"\|\s*([A-Za-z_]\w*)\s*(?::\s*(\"[^\"]*\"|'[^']*'|[^|]*?))?\s*(?=\||$)")

Filter = tuple[str, str | None]  # (name, argument)
SegmentKind = Literal["text", "value", "missing"]


class TemplateError(ValidationFailed):
    code = "invalid_template"


@dataclass(frozen=True)
class Placeholder:
    name: str
    filters: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class Template:
    parts: tuple[str | Placeholder, ...]  # literal text, or a placeholder

    @property
    def fields(self) -> list[str]:
        seen: dict[str, None] = {}
        for part in self.parts:
            if isinstance(part, Placeholder):
                seen.setdefault(part.name, None)
        return list(seen)


def parse_template(text: Any) -> Template:
    if not isinstance(text, str) or not text.strip():
        raise TemplateError("message must be non-empty text")
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(f"message is longer than {MAX_TEMPLATE_LENGTH} characters")
    parts: list[str | Placeholder] = []
    literal: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        literal.append(text[position : match.start()])
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
            continue
        if token in ("{", "}"):
            raise TemplateError(
                f"unbalanced brace at position {match.start()}; write {{{{ or }}}} for a "
                "literal brace",
                {"position": match.start()},
            )
        placeholder = _placeholder(match.group(1), match.start())
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(placeholder)
    literal.append(text[position:])
    if any(literal):
        parts.append("".join(literal))
    return Template(tuple(parts))


def _placeholder(inner: str, position: int) -> Placeholder:
    head, bar, tail = inner.partition("|")
    name = head.strip()
    if name not in PLACEHOLDERS:
        raise TemplateError(
            f"unknown placeholder {{{inner}}}; allowed: "
            + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS),
            {"placeholder": inner, "allowed": list(PLACEHOLDERS), "position": position},
        )
    filters: list[Filter] = []
    rest = bar + tail
    consumed = 0
    for match in _FILTER.finditer(rest):
        if match.start() != consumed:
            break
        consumed = match.end()
        filters.append(_filter(name, match.group(1), match.group(2), inner, position))
    if consumed != len(rest):
        raise TemplateError(
            f"cannot read the filters of {{{inner}}}; write them as "
            '{name|filter} or {name|default:"text"}',
            {"placeholder": inner, "position": position},
        )
    if len(filters) > MAX_FILTERS:
        raise TemplateError(f"at most {MAX_FILTERS} filters per placeholder in {{{inner}}}")
    return Placeholder(name, tuple(filters))


def _filter(name: str, flt: str, raw_arg: str | None, inner: str, position: int) -> Filter:
    details: dict[str, Any] = {"placeholder": inner, "filter": flt, "position": position}
    if flt not in FILTERS:
        raise TemplateError(
            f"unknown filter {flt!r} in {{{inner}}}; allowed: {', '.join(FILTERS)}",
            {**details, "allowed": list(FILTERS)},
        )
    applies = FILTERS[flt]
    if applies is not None and name not in applies:
        raise TemplateError(
            f"filter {flt!r} does not apply to {{{name}}}; it applies to "
            + ", ".join(f"{{{p}}}" for p in sorted(applies)),
            details,
        )
    arg: str | None = None
    if raw_arg:
        if raw_arg[0] not in "\"'" or len(raw_arg) < 2 or raw_arg[-1] != raw_arg[0]:
            raise TemplateError(
                f'a filter argument is a quoted literal, such as default:"there" (in {{{inner}}})',
                details,
            )
        arg = raw_arg[1:-1]
        if len(arg) > MAX_ARGUMENT_LENGTH:
            raise TemplateError(f"filter argument longer than {MAX_ARGUMENT_LENGTH}", details)
    _check_argument(flt, arg, inner, details)
    return flt, arg


def _check_argument(flt: str, arg: str | None, inner: str, details: dict[str, Any]) -> None:
    if flt == "default" and arg is None:
        raise TemplateError(
            f'default needs a quoted text, such as default:"there" ({inner})', details
        )
    if flt == "number" and arg is not None:
        raise TemplateError(f"number takes no argument ({{{inner}}})", details)
    if flt == "date" and arg is not None and arg not in DATE_STYLES:
        raise TemplateError(f"date style must be one of {', '.join(DATE_STYLES)}", details)
    if flt == "currency" and arg is not None and not re.fullmatch(r"[A-Z]{3}", arg):
        raise TemplateError('currency takes an ISO code such as currency:"USD"', details)


# -- rendering ----------------------------------------------------------------------------
DEFAULT_FORMAT = WorkspaceFormat()


def _plain(name: str, value: Any, fmt: WorkspaceFormat) -> str | None:
    if value is None or value == "":
        return None
    if name in DATE_FIELDS:
        parsed = as_date(value)
        return day(parsed, fmt) if parsed is not None else str(value)
    if name in NUMBER_FIELDS:
        num = as_number(value)
        return format_number(num, fmt) if num is not None else str(value)
    return str(value)


def format_placeholder(part: Placeholder, value: Any, fmt: WorkspaceFormat) -> str | None:
    """The text of one placeholder, or None when its value is missing (and no default)."""
    text: str | None = None
    formatted = False
    for flt, arg in part.filters:
        if flt == "default":
            continue
        if value is None or value == "":
            break
        formatted = True
        if flt == "date":
            parsed = as_date(value)
            text = day(parsed, fmt, arg or "medium") if parsed is not None else str(value)
        else:
            num = as_number(value)
            if num is None:
                text = str(value)
            else:
                text = money(num, fmt, arg) if flt == "currency" else format_number(num, fmt)
    if not formatted:
        text = _plain(part.name, value, fmt)
    if text is None:
        default = next((arg for flt, arg in part.filters if flt == "default"), None)
        text = default if default is not None else _DEFAULTS.get(part.name)
    return text


def render_segments(
    template: Template, values: dict[str, Any], fmt: WorkspaceFormat = DEFAULT_FORMAT
) -> list[tuple[SegmentKind, str]]:
    """The rendered pieces: literal text, substituted values, and missing values (empty)."""
    out: list[tuple[SegmentKind, str]] = []
    for part in template.parts:
        if isinstance(part, Placeholder):
            text = format_placeholder(part, values.get(part.name), fmt)
            out.append(("missing", "") if text is None else ("value", text))
        else:
            out.append(("text", part))
    return out


def render(
    template: Template, values: dict[str, Any], fmt: WorkspaceFormat = DEFAULT_FORMAT
) -> str:
    return "".join(text for _, text in render_segments(template, values, fmt))


def placeholder_values(customer: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """The values a template needs, taken from a customer document (store field names)."""
    values: dict[str, Any] = {}
    for name in fields:
        if name == "firstName":
            full = customer.get("name") or ""
            values[name] = full.split()[0] if full.split() else None
            continue
        path = PLACEHOLDERS.get(name)
        if path:
            value = customer.get(path)
            values[name] = value.isoformat() if isinstance(value, datetime) else value
    return values
