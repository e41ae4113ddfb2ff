"""Index bootstrap: creating is idempotent; obsolete indexes are dropped by their keys."""

from __future__ import annotations

import pytest
from pymongo import ASCENDING, DESCENDING

from libs.common.mongo import IndexSpec, drop_indexes, ensure_indexes
from libs.common.testing.pytest_plugin import CleanEnv

pytestmark = pytest.mark.integration

KEEP = IndexSpec("things", [("owner", ASCENDING)])
OLD = [IndexSpec("things", [("name", ASCENDING)]), IndexSpec("things", [("size", DESCENDING)])]


def keys_of(clean_env: CleanEnv) -> list[list[tuple[str, int]]]:
    info = clean_env.db("common").things.index_information()
    return sorted([(k, int(d)) for k, d in i["key"]] for i in info.values())


def test_obsolete_indexes_are_dropped_whatever_the_server_named_them(
    clean_env: CleanEnv,
) -> None:
    db = clean_env.db("common")
    db.things.insert_one({"_id": "a", "name": "x", "size": 1, "owner": "o"})
    ensure_indexes(db, [KEEP, *OLD])
    ensure_indexes(db, [KEEP, *OLD])  # twice: creating an existing index is a no-op
    assert len(keys_of(clean_env)) == 4

    assert len(drop_indexes(db, OLD)) == 2
    assert keys_of(clean_env) == [[("_id", 1)], [("owner", 1)]]
    assert drop_indexes(db, OLD) == []  # already gone: nothing to do
    assert drop_indexes(db, [IndexSpec("missing", [("name", ASCENDING)])]) == []
    assert db.things.find_one({"_id": "a"})["name"] == "x"  # the data is untouched
