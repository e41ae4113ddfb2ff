"""insert_new: an idempotent bulk insert (documents already there are kept)."""

from __future__ import annotations

import pytest

from libs.common.mongo import insert_new, insert_new_reporting
from libs.common.testing.pytest_plugin import CleanEnv

pytestmark = pytest.mark.integration


def test_existing_ids_are_left_as_they_are_and_counted_out(clean_env: CleanEnv) -> None:
    things = clean_env.db("common").things
    assert insert_new(things, []) == 0
    assert insert_new(things, [{"_id": "a", "v": 1}, {"_id": "b", "v": 1}]) == 2
    assert insert_new(things, [{"_id": "a", "v": 2}, {"_id": "c", "v": 2}]) == 1
    assert {d["_id"]: d["v"] for d in things.find({})} == {"a": 1, "b": 1, "c": 2}


def test_the_reporting_insert_names_the_documents_that_were_there(clean_env: CleanEnv) -> None:
    things = clean_env.db("common").things
    assert insert_new_reporting(things, []) == []
    assert insert_new_reporting(things, [{"_id": "a", "v": 1}, {"_id": "b", "v": 1}]) == []
    docs = [{"_id": "c", "v": 2}, {"_id": "b", "v": 2}, {"_id": "d", "v": 2}, {"_id": "a", "v": 2}]
    assert sorted(insert_new_reporting(things, docs)) == ["a", "b"]
    assert {d["_id"]: d["v"] for d in things.find({})} == {"a": 1, "b": 1, "c": 2, "d": 2}
