"""Text from outside: no control or bidi-override characters, one Unicode form (NFC),
attribute keys safe for MongoDB at every depth."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from ingest_helpers import customer, order, wait_columns_current

from services.ingest.intake import KINDS, validate_body

CUSTOMERS, ORDERS = KINDS["customers"], KINDS["orders"]
NFD_NAME = unicodedata.normalize("NFD", "Émile Zoë")


def _validate(kind: Any, key: str, items: list[dict[str, Any]]) -> tuple[list, list]:
    return validate_body(kind, orjson.dumps({key: items}), batch=True, max_batch=50)


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


@pytest.mark.unit
@pytest.mark.parametrize(
    ("fields", "field", "char"),
    [
        ({"name": "Ann\x00"}, "name", "U+0000"),
        ({"name": "Ann\u202egnp.exe"}, "name", "U+202E"),
        ({"name": "\u2066Ann\u2069"}, "name", "U+2066"),
        ({"city": "Pune\x1b[31m"}, "city", "U+001B"),
        ({"tags": ["vip", "x\u202ay"]}, "tags", "U+202A"),
    ],
)
def test_control_and_bidi_override_characters_are_refused_with_the_reason(fields, field, char):
    valid, [rejected] = _validate(CUSTOMERS, "customers", [customer("c1", **fields)])
    assert valid == []
    assert rejected.errors[0]["field"] == field and char in rejected.errors[0]["message"]


@pytest.mark.unit
def test_text_is_stored_in_nfc_and_right_to_left_text_stays_as_written():
    arabic = "سارة"
    [a, b], rejected = _validate(
        CUSTOMERS,
        "customers",
        [customer("a", name=NFD_NAME, city=NFD_NAME, tags=[NFD_NAME]), customer("b", name=arabic)],
    )
    assert not rejected
    assert a["name"] == a["city"] == a["tags"][0] == "Émile Zoë" != NFD_NAME
    assert b["name"] == arabic
    bad_order = {**order("o1", "a", 5), "items": ["x\x00"]}
    _, [o] = _validate(ORDERS, "orders", [bad_order])
    assert o.errors[0]["field"] == "items"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        ({"a": {"$where": 1}}, "no '$' or '.'"),
        ({"a": [{"b.c": 1}]}, "no '$' or '.'"),
        ({"a": {"b": {"": 1}}}, "no '$' or '.'"),
        (_nested(150), "nest at most 20"),
        ({"a": ["ok", "bad\x00"]}, "U+0000"),
    ],
)
def test_attribute_keys_and_depth_are_checked_at_every_level(attributes, reason):
    _, [rejected] = _validate(CUSTOMERS, "customers", [customer("c1", attributes=attributes)])
    assert rejected.errors[0]["field"].startswith("attributes")
    assert reason in rejected.errors[0]["message"]


@pytest.mark.unit
def test_an_attribute_number_beyond_64_bits_is_a_validation_error_not_a_500():
    # found by the schema fuzzer through the API (500 "Integer exceeds 64-bit range")
    from services.ingest.models import _bounded_attributes

    with pytest.raises(ValueError, match="fit in 64 bits"):
        _bounded_attributes({"big": 2**70})


@pytest.mark.unit
def test_attributes_nested_within_the_limit_are_kept():
    [valid], rejected = _validate(CUSTOMERS, "customers", [customer("c1", attributes=_nested(20))])
    assert not rejected and valid["attributes"] == _nested(20)


@pytest.mark.integration
@pytest.mark.parametrize("columns_enabled", [False, True])
def test_a_search_typed_in_either_unicode_form_finds_the_customer(
    make_api: Callable[..., TestClient], drain: Callable[[str], int], columns_enabled: bool
) -> None:
    api = make_api(columns_enabled=columns_enabled)
    answer = api.post("/api/customers/batch", json={"customers": [customer("c1", name=NFD_NAME)]})
    assert answer.status_code == 202, answer.text
    drain("ingest")
    if columns_enabled:
        wait_columns_current(api)
    for needle in ("Émile", unicodedata.normalize("NFD", "Émile"), "zoë"):
        found = api.get("/api/customers", params={"q": needle}).json()
        assert [c["id"] for c in found["items"]] == ["c1"], needle
