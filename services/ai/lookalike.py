"""Lookalike audiences: customers nearest to the base audience's centroid.

Features (spend, visits, recency in days, order count, average order value) are
standardised over all known customers; non-members are ranked by Euclidean distance to
the base centroid (ties by id, so the answer is deterministic). The chosen customers
are described as rules: per-feature ranges spanning them, AND the negation of the base
rules when it can be expressed (a rule set with 'contains'/'in' has no negation), so
the rules never select a base member.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np

from libs.common.errors import ValidationFailed
from libs.common.rules import Condition, Group, matches, parse_rules, to_json

FEATURES = ("total_spends", "visits", "recency_days", "order_count", "avg_order_value")
LABELS = {
    "total_spends": "spend",
    "visits": "visits",
    "recency_days": "days since last activity",
    "order_count": "orders",
    "avg_order_value": "average order value",
}
NEVER_ACTIVE_DAYS = 3650.0
_RANGE_FIELDS = (
    ("total_spends", "totalSpends"),
    ("visits", "visits"),
    ("order_count", "orderCount"),
)
_NEGATE = {
    ">": "<=", ">=": "<", "<": ">=", "<=": ">", "=": "!=", "!=": "=",
    "inactive_days": "active_within_days", "active_within_days": "inactive_days",
}  # fmt: skip


def features(doc: dict[str, Any], now: datetime) -> list[float]:
    moments = [m for m in (doc.get("last_visit"), doc.get("last_order_at")) if m is not None]
    recency = (
        max(0.0, (now - max(moments)).total_seconds() / 86400) if moments else NEVER_ACTIVE_DAYS
    )
    orders = float(doc.get("order_count", 0) or 0)
    aov = float(doc.get("order_total", 0) or 0) / orders if orders else 0.0
    return [
        float(doc.get("total_spends", 0) or 0),
        float(doc.get("visits", 0) or 0),
        min(recency, NEVER_ACTIVE_DAYS),
        orders,
        aov,
    ]


def negate(node: Group | Condition) -> dict[str, Any] | None:
    """Rules selecting no member of ``node`` (None when not expressible)."""
    if isinstance(node, Group):
        children = [negate(c) for c in node.conditions]
        if not children or any(c is None for c in children):
            return None
        return {"operator": "OR" if node.operator == "AND" else "AND", "conditions": children}
    raw = to_json(node)
    if node.operator == "exists":
        return {**raw, "value": not node.value}
    if node.spec.kind == "list" or node.operator not in _NEGATE:
        return None
    return {**raw, "operator": _NEGATE[node.operator]}


def find_lookalikes(
    docs: list[dict[str, Any]],
    base: Group,
    now: datetime,
    size: int | None = None,
    max_size: int = 5000,
) -> dict[str, Any]:
    ids = np.array([str(d["_id"]) for d in docs])
    in_base = np.array([matches(base, d, now) for d in docs], dtype=bool)
    base_count = int(in_base.sum())
    if base_count == 0:
        raise ValidationFailed("the base audience matches no known customer")
    if base_count == len(docs):
        raise ValidationFailed("every known customer is in the base audience")
    matrix = np.array([features(d, now) for d in docs], dtype=float)
    std = matrix.std(axis=0)
    scaled = (matrix - matrix.mean(axis=0)) / np.where(std > 0, std, 1.0)
    centroid = scaled[in_base].mean(axis=0)
    distance = np.linalg.norm(scaled - centroid, axis=1)
    candidates = np.flatnonzero(~in_base)
    ranked = candidates[np.lexsort((ids[candidates], distance[candidates]))]
    wanted = min(size or base_count, max_size, len(ranked))
    chosen = ranked[:wanted]

    conditions: list[dict[str, Any]] = []
    for feature, field in _RANGE_FIELDS:
        column = FEATURES.index(feature)
        low, high = float(matrix[chosen, column].min()), float(matrix[chosen, column].max())
        if low > float(matrix[:, column].min()):
            conditions.append({"field": field, "operator": ">=", "value": math.floor(low)})
        if high < float(matrix[:, column].max()):
            conditions.append({"field": field, "operator": "<=", "value": math.ceil(high)})
    exclusion = negate(base)
    if exclusion is not None:
        conditions.append(exclusion)
    rules = to_json(parse_rules({"operator": "AND", "conditions": conditions}))
    selected = parse_rules(rules)
    size_by_rules = sum(
        1
        for d, member in zip(docs, in_base, strict=True)
        if not member and matches(selected, d, now)
    )
    if exclusion is None:
        size_by_rules = sum(1 for d in docs if matches(selected, d, now))
    return {
        "rules": rules,
        "size": size_by_rules,
        "customerIds": ids[chosen].tolist(),
        "excludesBase": exclusion is not None,
        "baseSize": base_count,
        "comparison": _comparison(matrix, in_base, chosen),
        "explanation": _explain(matrix, in_base, chosen, exclusion is not None),
    }


def _comparison(matrix: np.ndarray, in_base: np.ndarray, chosen: np.ndarray) -> dict[str, Any]:
    base_mean, look_mean, all_mean = (
        matrix[in_base].mean(axis=0),
        matrix[chosen].mean(axis=0),
        matrix.mean(axis=0),
    )
    return {
        name: {
            "base": round(float(base_mean[i]), 2),
            "lookalike": round(float(look_mean[i]), 2),
            "everyone": round(float(all_mean[i]), 2),
        }
        for i, name in enumerate(FEATURES)
    }


def _explain(matrix: np.ndarray, in_base: np.ndarray, chosen: np.ndarray, excludes: bool) -> str:
    comparison = _comparison(matrix, in_base, chosen)
    parts = [
        f"{LABELS[name]} {v['lookalike']:,.0f} against {v['base']:,.0f} "
        f"({v['everyone']:,.0f} across all customers)"
        for name, v in comparison.items()
    ]
    text = (
        f"Picked the {len(chosen):,} customers most like your audience of "
        f"{int(in_base.sum()):,} (by spend, visits, how recently they came, orders and "
        "average order value) and wrote rules around them. Averages, lookalikes against "
        "your audience: " + "; ".join(parts) + ". "
    )
    if excludes:
        text += "The rules leave out everyone already in your audience."
    else:
        text += (
            "Your audience is chosen by tags or lists, which a rule cannot leave out, so "
            "some of its members may match these rules too."
        )
    return text
