"""Message templates: ``{field}`` placeholders from a whitelist, rendered without
``str.format``. Attribute access, indexing, positional fields, conversions and format
specs (``{name.__class__}``, ``{0}``, ``{name!r}``, ``{name:>10}``) are refused when a
template is parsed, and rendering only ever substitutes plain values.
``{{`` and ``}}`` stand for literal braces."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from libs.common.errors import ValidationFailed

MAX_TEMPLATE_LENGTH = 2000

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
}

_DEFAULTS = {"name": "there", "firstName": "there"}
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class TemplateError(ValidationFailed):
    code = "invalid_template"


@dataclass(frozen=True)
class Template:
    parts: tuple[str | tuple[str], ...]  # literal text, or (placeholder,)

    @property
    def fields(self) -> list[str]:
        seen: dict[str, None] = {}
        for part in self.parts:
            if isinstance(part, tuple):
                seen.setdefault(part[0], None)
        return list(seen)


def parse_template(text: Any) -> Template:
    if not isinstance(text, str) or not text.strip():
        raise TemplateError("message must be non-empty text")
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(f"message is longer than {MAX_TEMPLATE_LENGTH} characters")
    parts: list[str | tuple[str]] = []
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
        name = match.group(1).strip()
        if name not in PLACEHOLDERS:
            raise TemplateError(
                f"unknown placeholder {{{match.group(1)}}}; allowed: "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS),
                {"placeholder": match.group(1), "allowed": list(PLACEHOLDERS)},
            )
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append((name,))
    literal.append(text[position:])
    if any(literal):
        parts.append("".join(literal))
    return Template(tuple(parts))


def _format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, datetime):
        return value.strftime("%d %b %Y")
    return str(value)


def render(template: Template, values: dict[str, Any]) -> str:
    out: list[str] = []
    for part in template.parts:
        if isinstance(part, tuple):
            text = _format_value(values.get(part[0]))
            out.append(text or _DEFAULTS.get(part[0], ""))
        else:
            out.append(part)
    return "".join(out)


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
