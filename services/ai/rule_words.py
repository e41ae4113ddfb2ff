"""Audience rules in a marketer's words ("city is Mumbai or Pune", "spent over ₹5,000"),
for rationales and explanations; libs.common.rules.describe stays the log format."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from libs.common.rules import Condition, Group

_NUMBER_WORDS = {">": "over", ">=": "at least", "<": "under", "<=": "at most", "=": "exactly"}
_DATE_WORDS = {">": "after", ">=": "on or after", "<": "before", "<=": "on or before"}
_SUBJECT = {
    "totalSpends": "total spend",
    "visits": "visits",
    "orderCount": "orders",
    "lastVisit": "last visit",
    "lastOrderAt": "last order",
    "createdAt": "joined",
}


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime):
        return f"{value.day} {value:%b %Y}"
    return str(value)


def _either(values: Any) -> str:
    items = [_value(v) for v in (values if isinstance(values, list | tuple) else [values])]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def condition_in_words(c: Condition) -> str:
    label = _SUBJECT.get(c.field, c.spec.label.lower())
    kind = c.spec.kind
    if c.operator == "exists":
        return f"{label} {'is known' if c.value else 'is not known'}"
    if c.operator == "inactive_days":
        return f"no {label} in the last {c.value} days"
    if c.operator == "active_within_days":
        return f"{label} within the last {c.value} days"
    if kind == "list":
        return f"tagged {_either(c.value)}"
    if c.operator == "in":
        return f"{label} is {_either(c.value)}"
    if c.operator == "contains":
        return f"{label} contains “{_value(c.value)}”"
    if c.operator == "!=":
        return f"{label} is not {_value(c.value)}"
    if kind == "date":
        return f"{label} {_DATE_WORDS.get(c.operator, c.operator)} {_value(c.value)}"
    if kind == "number":
        return f"{label} {_NUMBER_WORDS.get(c.operator, c.operator)} {_value(c.value)}"
    return f"{label} is {_value(c.value)}"


def rules_in_words(node: Group | Condition, top: bool = True) -> str:
    """ "city is Mumbai or Pune and total spend over 5,000"; nested groups in brackets."""
    if isinstance(node, Condition):
        return condition_in_words(node)
    if not node.conditions:
        return "everyone"
    joiner = " and " if node.operator == "AND" else " or "
    text = joiner.join(rules_in_words(c, top=False) for c in node.conditions)
    return text if top or len(node.conditions) == 1 else f"({text})"
