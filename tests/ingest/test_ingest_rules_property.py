"""One segment engine, three evaluations that must agree on every customer:
libs.common.rules.matches (Python), compile_rules run by the database, and the
columnar read model's vectorised mask."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libs.common.mongo import count_matching
from libs.common.rules import FIELDS, OPERATORS_BY_KIND, compile_rules, matches, parse_rules
from libs.common.testing.pytest_plugin import CleanEnv
from services.ingest.audience.columns import Columns, evaluate
from services.ingest.store import audience_filter, portable

pytestmark = pytest.mark.integration

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
TEXTS = ["asha", "Asha Rao", "bob", "BOB", "Pune", "pune", "a.b", "x y", "Zed"]
TAGS = ["vip", "VIP", "new", "churn"]
NUMBERS = [0, 1, 2, 2.5, 3, 10, 100, 1000.75]
DAYS = (0, 1, 29, 30, 31, 90, 365, 800)
DATES = [NOW - timedelta(days=d, seconds=s) for d in DAYS for s in (0, 7)]

text_value = st.sampled_from(TEXTS) | st.text(alphabet="abAB .", min_size=1, max_size=3)
number_value = st.sampled_from(NUMBERS)


def _maybe(key: str, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(st.just({}), strategy.map(lambda v: {key: v}))


@st.composite
def customer_docs(draw: st.DrawFn, index: int = 0) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for spec in FIELDS.values():
        if spec.kind == "number":
            doc.update(draw(_maybe(spec.path, number_value)))
        elif spec.kind == "date":
            doc.update(draw(_maybe(spec.path, st.sampled_from(DATES))))
        elif spec.kind == "text":
            doc.update(draw(_maybe(spec.path, text_value)))
        else:
            tags = draw(st.lists(st.sampled_from(TAGS), unique=True, max_size=3))
            if tags:
                doc["tags"] = tags
    if draw(st.booleans()):
        doc["contactable"] = True
    return doc


def scalar(kind: str) -> st.SearchStrategy[Any]:
    if kind == "number":
        return number_value | number_value.map(str)
    if kind == "date":
        return st.sampled_from(DATES).map(lambda d: d.isoformat())
    if kind == "list":
        return st.sampled_from(TAGS)
    return text_value.filter(lambda t: t.strip() != "")


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    spec = FIELDS[draw(st.sampled_from(sorted(FIELDS)))]
    op = draw(st.sampled_from(OPERATORS_BY_KIND[spec.kind]))
    if op == "exists":
        value: Any = draw(st.booleans())
    elif op in ("inactive_days", "active_within_days"):
        value = draw(st.sampled_from([0, 1, 30, 90, 400, 1000]))
    elif op == "in":
        value = draw(st.lists(scalar(spec.kind), min_size=1, max_size=3))
    else:
        value = draw(scalar(spec.kind))
    return {"field": spec.name, "operator": op, "value": value}


rules_strategy = st.recursive(
    conditions(),
    lambda children: st.builds(
        lambda op, conds: {"operator": op, "conditions": conds},
        st.sampled_from(["AND", "OR"]),
        st.lists(children, max_size=3),
    ),
    max_leaves=6,
).map(lambda r: r if "conditions" in r else {"operator": "AND", "conditions": [r]})


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    docs=st.lists(customer_docs(), min_size=1, max_size=25),
    rule_sets=st.lists(rules_strategy, min_size=1, max_size=4),
)
def test_python_database_and_columns_select_the_same_customers(
    clean_env: CleanEnv, docs: list[dict[str, Any]], rule_sets: list[dict[str, Any]]
) -> None:
    collection = clean_env.db("ingest")["property_customers"]
    collection.delete_many({})
    docs = [{"_id": f"c{i:02d}", **doc} for i, doc in enumerate(docs)]
    collection.insert_many([dict(d) for d in docs])
    columns = Columns(capacity=4)  # small, so that growing is exercised too
    # half the rows (ids and vocabularies) packed, as after a load, the rest added later
    # and the packed half written again, as change notices do
    columns.upsert(docs[: len(docs) // 2])
    columns.prepare()
    columns.upsert(docs)
    for raw in rule_sets:
        group = parse_rules(raw)
        in_python = {d["_id"] for d in docs if matches(group, d, NOW)}
        flt = portable(compile_rules(group, NOW))
        in_db = {d["_id"] for d in collection.find(flt, {"_id": 1})}
        in_columns = ids_of(columns, evaluate(columns, group, NOW))
        assert in_python == in_db == in_columns, raw
        assert count_matching(collection, flt) == len(in_db), raw  # the preview's DB count
        audience_db = collection.find(audience_filter(compile_rules(group, NOW)), {"_id": 1})
        audience_columns = ids_of(columns, columns.audience(group, NOW))
        assert {d["_id"] for d in audience_db} == audience_columns, raw


def ids_of(columns: Columns, mask: np.ndarray) -> set[str]:
    return {columns.ids[int(i)] for i in np.flatnonzero(mask)}
