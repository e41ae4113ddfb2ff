"""The segment engine: audience rules, validated, compiled to MongoDB, evaluated in Python.

Rules are ``{"operator": "AND"|"OR", "conditions": [condition | group, ...]}`` with
conditions ``{"field", "operator", "value"}``. Only whitelisted fields and operators
exist; values are coerced to the field's type, so no part of a rule can ever reach
the database as an operator (``{"$where": ...}`` or ``{"$gt": ""}`` are refused).

Customer documents never store null or empty lists (absent means unknown); the
compiled filters rely on that so real MongoDB and the embedded server agree.
A group with no conditions matches every customer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from libs.common.errors import ValidationFailed

FieldKind = Literal["number", "date", "text", "list"]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    path: str
    kind: FieldKind
    label: str


FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("totalSpends", "total_spends", "number", "Total spend"),
        FieldSpec("visits", "visits", "number", "Visits"),
        FieldSpec("orderCount", "order_count", "number", "Orders"),
        FieldSpec("lastVisit", "last_visit", "date", "Last visit"),
        FieldSpec("lastOrderAt", "last_order_at", "date", "Last order"),
        FieldSpec("createdAt", "created_at", "date", "Customer since"),
        FieldSpec("name", "name", "text", "Name"),
        FieldSpec("email", "email", "text", "Email"),
        FieldSpec("phone", "phone", "text", "Phone"),
        FieldSpec("city", "city", "text", "City"),
        FieldSpec("timezone", "timezone", "text", "Time zone"),
        FieldSpec("tags", "tags", "list", "Tags"),
        # consent per channel: subscribed | unsubscribed | unknown (absent: unknown)
        FieldSpec("consent.email", "consent_email", "text", "Email consent"),
        FieldSpec("consent.sms", "consent_sms", "text", "SMS consent"),
    )
}

COMPARISONS = (">", ">=", "<", "<=")
OPERATORS_BY_KIND: dict[FieldKind, tuple[str, ...]] = {
    "number": (*COMPARISONS, "=", "!=", "in", "exists"),
    "date": (*COMPARISONS, "inactive_days", "active_within_days", "exists"),
    "text": ("=", "!=", "contains", "in", "exists"),
    "list": ("contains", "in", "exists"),
}

MAX_DEPTH = 8
MAX_CONDITIONS = 200
MAX_IN_VALUES = 1000
MAX_TEXT = 200
MAX_ABS_NUMBER = 1e15
MAX_DAYS = 36_500
_GROUP_KEYS = {"operator", "conditions", "id"}
_CONDITION_KEYS = {"field", "operator", "value", "id"}


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    value: Any

    @property
    def spec(self) -> FieldSpec:
        return FIELDS[self.field]


@dataclass(frozen=True)
class Group:
    operator: Literal["AND", "OR"]
    conditions: tuple[Condition | Group, ...]


class RuleError(ValidationFailed):
    code = "invalid_rules"


# -- parsing and validation ---------------------------------------------------------
def parse_rules(raw: Any) -> Group:
    """Validate raw JSON rules; raise RuleError listing every problem with its path."""
    problems: list[dict[str, str]] = []
    counter = [0]
    group = _parse_group(raw, "rules", 1, problems, counter)
    if problems or group is None:
        first = problems[0]["message"] if problems else "invalid rules"
        raise RuleError(f"invalid rules: {first}", problems)
    return group


def _problem(problems: list[dict[str, str]], path: str, message: str) -> None:
    if len(problems) < 50:
        problems.append({"path": path, "message": message})


def _parse_group(
    raw: Any, path: str, depth: int, problems: list[dict[str, str]], counter: list[int]
) -> Group | None:
    if depth > MAX_DEPTH:
        _problem(problems, path, f"rules nest deeper than {MAX_DEPTH} levels")
        return None
    if not isinstance(raw, dict):
        _problem(problems, path, "a group must be an object with operator and conditions")
        return None
    unknown = set(raw) - _GROUP_KEYS
    if unknown:
        _problem(problems, path, f"unknown keys in group: {sorted(map(str, unknown))}")
        return None
    operator = raw.get("operator", "AND")
    if not isinstance(operator, str) or operator.upper() not in ("AND", "OR"):
        _problem(problems, f"{path}.operator", "group operator must be AND or OR")
        return None
    conditions = raw.get("conditions", [])
    if not isinstance(conditions, list):
        _problem(problems, f"{path}.conditions", "conditions must be a list")
        return None
    parsed: list[Condition | Group] = []
    for index, item in enumerate(conditions):
        item_path = f"{path}.conditions[{index}]"
        if isinstance(item, dict) and "conditions" in item:
            child: Condition | Group | None = _parse_group(
                item, item_path, depth + 1, problems, counter
            )
        else:
            counter[0] += 1
            if counter[0] > MAX_CONDITIONS:
                _problem(problems, item_path, f"more than {MAX_CONDITIONS} conditions")
                return None
            child = _parse_condition(item, item_path, problems)
        if child is not None:
            parsed.append(child)
    return Group(operator.upper(), tuple(parsed))  # type: ignore[arg-type]


def _parse_condition(raw: Any, path: str, problems: list[dict[str, str]]) -> Condition | None:
    if not isinstance(raw, dict):
        _problem(problems, path, "a condition must be an object with field, operator, value")
        return None
    unknown = set(raw) - _CONDITION_KEYS
    if unknown:
        _problem(problems, path, f"unknown keys in condition: {sorted(map(str, unknown))}")
        return None
    field, operator = raw.get("field"), raw.get("operator")
    if not isinstance(field, str) or field not in FIELDS:
        _problem(problems, f"{path}.field", f"unknown field {field!r}; allowed: {sorted(FIELDS)}")
        return None
    spec = FIELDS[field]
    allowed = OPERATORS_BY_KIND[spec.kind]
    if not isinstance(operator, str) or operator not in allowed:
        _problem(
            problems,
            f"{path}.operator",
            f"operator {operator!r} does not apply to {field}; allowed: {list(allowed)}",
        )
        return None
    try:
        value = _coerce_value(spec, operator, raw.get("value"))
    except ValueError as exc:
        _problem(problems, f"{path}.value", str(exc))
        return None
    return Condition(field, operator, value)


def _coerce_number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, str):
        cleaned = value.strip().replace(",", "")
        try:
            number = float(cleaned)
        except ValueError:
            raise ValueError(f"expected a number, got {value[:40]!r}") from None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(number) or abs(number) > MAX_ABS_NUMBER:
        raise ValueError("number out of range")
    return number


def _coerce_days(value: Any) -> int:
    days = _coerce_number(value)
    if days < 0 or days > MAX_DAYS or days != int(days):
        raise ValueError(f"days must be a whole number from 0 to {MAX_DAYS}")
    return int(days)


def _coerce_date(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("expected an ISO date such as 2024-01-31")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"expected an ISO date such as 2024-01-31, got {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not 1900 <= parsed.year <= 2200:
        raise ValueError("date out of range (1900-2200)")
    return parsed.astimezone(UTC)


def _coerce_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("expected text")
    text = str(value).strip()
    if not text or len(text) > MAX_TEXT:
        raise ValueError(f"text must be 1 to {MAX_TEXT} characters")
    return text


def _coerce_scalar(spec: FieldSpec, value: Any) -> Any:
    if spec.kind == "number":
        return _coerce_number(value)
    if spec.kind == "date":
        return _coerce_date(value)
    return _coerce_text(value)


def _coerce_value(spec: FieldSpec, operator: str, value: Any) -> Any:
    if operator == "exists":
        if value is None or value in (True, "true", "True", 1, "1", "yes"):
            return True
        if value in (False, "false", "False", 0, "0", "no"):
            return False
        raise ValueError("exists takes true or false")
    if operator in ("inactive_days", "active_within_days"):
        return _coerce_days(value)
    if operator == "in":
        items = value
        if isinstance(value, str):
            items = [v for v in (p.strip() for p in value.split(",")) if v]
        if not isinstance(items, list) or not items or len(items) > MAX_IN_VALUES:
            raise ValueError(f"'in' takes a list of 1 to {MAX_IN_VALUES} values")
        return tuple(_coerce_scalar(spec, item) for item in items)
    return _coerce_scalar(spec, value)


# -- normalised JSON ----------------------------------------------------------------
def to_json(node: Group | Condition) -> dict[str, Any]:
    """The rules as canonical JSON (dates as ISO strings, numbers as numbers)."""
    if isinstance(node, Group):
        return {"operator": node.operator, "conditions": [to_json(c) for c in node.conditions]}
    value = node.value
    value = [_json_scalar(v) for v in value] if isinstance(value, tuple) else _json_scalar(value)
    return {"field": node.field, "operator": node.operator, "value": value}


def _json_scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def used_fields(node: Group | Condition) -> list[str]:
    """Field names used by the rules, in first-use order."""
    if isinstance(node, Condition):
        return [node.field]
    seen: dict[str, None] = {}
    for child in node.conditions:
        for name in used_fields(child):
            seen.setdefault(name, None)
    return list(seen)


# -- compilation to MongoDB -----------------------------------------------------------
_MONGO_CMP = {">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte"}


def compile_rules(group: Group, now: datetime) -> dict[str, Any]:
    """A MongoDB filter built only from whitelisted parts."""
    if not group.conditions:
        return {}
    parts = [
        compile_rules(c, now) if isinstance(c, Group) else _compile_condition(c, now)
        for c in group.conditions
    ]
    parts = [p for p in parts if p != {}] if group.operator == "AND" else parts
    if group.operator == "OR" and any(p == {} for p in parts):
        return {}
    if not parts:
        return {}
    if len(parts) == 1:
        return parts[0]
    return {"$and" if group.operator == "AND" else "$or": parts}


def _cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def _compile_condition(cond: Condition, now: datetime) -> dict[str, Any]:
    path, op, value, kind = cond.spec.path, cond.operator, cond.value, cond.spec.kind
    if op == "exists":
        return {path: {"$exists": bool(value)}}
    if op in _MONGO_CMP:
        return {path: {_MONGO_CMP[op]: value}}
    if op == "inactive_days":
        return {"$or": [{path: {"$lt": _cutoff(now, value)}}, {path: {"$exists": False}}]}
    if op == "active_within_days":
        return {path: {"$gte": _cutoff(now, value)}}
    if op == "in":
        return {path: {"$in": list(value)}}
    if op == "contains":
        if kind == "list":
            return {path: value}
        return {path: {"$regex": re.escape(value), "$options": "i"}}
    if op == "=":
        return {path: value}
    if op == "!=":
        return {path: {"$ne": value}}
    raise AssertionError(f"unhandled operator {op}")  # parse_rules refuses it first


# -- evaluation in Python -------------------------------------------------------------
def matches(group: Group, doc: dict[str, Any], now: datetime) -> bool:
    """The same selection as compile_rules, evaluated on one customer document."""
    if not group.conditions:
        return True
    results = (
        matches(c, doc, now) if isinstance(c, Group) else _matches_condition(c, doc, now)
        for c in group.conditions
    )
    return all(results) if group.operator == "AND" else any(results)


def _as_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _matches_condition(cond: Condition, doc: dict[str, Any], now: datetime) -> bool:
    op, value, kind = cond.operator, cond.value, cond.spec.kind
    actual = _as_utc(doc.get(cond.spec.path))
    if actual == []:
        actual = None
    if op == "exists":
        return (actual is not None) == bool(value)
    if op == "inactive_days":
        return actual is None or actual < _cutoff(now, value)
    if op == "active_within_days":
        return actual is not None and actual >= _cutoff(now, value)
    if kind == "list":
        tags = actual or []
        if op == "contains":
            return bool(value in tags)
        return any(v in tags for v in value)  # "in": any of
    if op == "!=":
        return bool(actual != value)
    if actual is None:
        return False
    if op == "=":
        return bool(actual == value)
    if op == "in":
        return bool(actual in value)
    if op == "contains":
        return value.lower() in str(actual).lower()
    if kind == "text":
        return False
    if op == ">":
        return bool(actual > value)
    if op == ">=":
        return bool(actual >= value)
    if op == "<":
        return bool(actual < value)
    return bool(actual <= value)


def describe(node: Group | Condition) -> str:
    """A short English rendering, for explanations and logs."""
    if isinstance(node, Condition):
        label = node.spec.label.lower()
        words = {
            "inactive_days": f"{label} more than {node.value} days ago (or never)",
            "active_within_days": f"{label} within the last {node.value} days",
            "exists": f"{label} {'is known' if node.value else 'is unknown'}",
        }
        if node.operator in words:
            return words[node.operator]
        value = to_json(node)["value"]
        if isinstance(node.value, datetime) and node.value.time() == datetime.min.time():
            value = node.value.date().isoformat()  # a calendar day, not midnight UTC
        return f"{label} {node.operator} {value}"
    inner = f" {node.operator.lower()} ".join(describe(c) for c in node.conditions)
    return f"({inner})" if len(node.conditions) > 1 else inner or "everyone"
