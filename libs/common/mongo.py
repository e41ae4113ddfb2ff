"""MongoDB client factory and per-service index bootstrap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError

DUPLICATE_KEY = 11000


@dataclass(frozen=True)
class IndexSpec:
    collection: str
    keys: Sequence[tuple[str, int]]
    unique: bool = False
    name: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


def make_client(uri: str, *, timeout_ms: int = 5000) -> MongoClient[dict[str, Any]]:
    return MongoClient(
        uri,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=max(timeout_ms * 6, 30_000),
        tz_aware=True,
    )


def ensure_indexes(db: Database[dict[str, Any]], specs: Sequence[IndexSpec]) -> None:
    """Create the service's indexes at start; creating an existing index is a no-op."""
    for spec in specs:
        keys = [(name, direction or ASCENDING) for name, direction in spec.keys]
        kwargs: dict[str, Any] = dict(spec.options)
        if spec.name:
            kwargs["name"] = spec.name
        db[spec.collection].create_index(keys, unique=spec.unique, **kwargs)


def drop_indexes(db: Database[dict[str, Any]], specs: Sequence[IndexSpec]) -> list[str]:
    """Drop the indexes on these keys where they exist (a migration away from indexes a
    service no longer wants); returns the names dropped.

    Matched by the indexed fields, not by name and not by direction: nx-27017 names an
    index its own way (ignoring the name given) and reports every key as ascending.
    """
    dropped: list[str] = []
    for spec in specs:
        fields = [name for name, _ in spec.keys]
        collection = db[spec.collection]
        for name, info in collection.index_information().items():
            if [key for key, _ in info["key"]] == fields:
                collection.drop_index(name)
                dropped.append(name)
    return dropped


def insert_new(collection: Collection[dict[str, Any]], docs: Sequence[dict[str, Any]]) -> int:
    """Insert in one unordered bulk; documents whose ``_id`` already exists are left as
    they are (idempotent writes). Returns how many were inserted; any other error
    raises."""
    return len(docs) - len(insert_new_reporting(collection, docs))


def insert_new_reporting(
    collection: Collection[dict[str, Any]], docs: Sequence[dict[str, Any]]
) -> list[Any]:
    """``insert_new``, returning the ``_id`` of each document that existed already (and
    was left as it is), for a caller that falls back to an update for those."""
    if not docs:
        return []
    try:
        collection.insert_many(list(docs), ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if exc.details.get("writeConcernErrors") or any(
            e.get("code") != DUPLICATE_KEY for e in errors
        ):
            raise
        return [docs[e["index"]]["_id"] for e in errors]
    return []


def count_matching(collection: Collection[dict[str, Any]], query: Mapping[str, Any]) -> int:
    """How many documents match ``query``, by the ``count`` command.

    Not ``count_documents``: pymongo sends that as an aggregation (``$match``, then
    ``$group`` with ``$sum: 1``), which nx-27017 evaluates by loading the whole
    collection into memory (5 s and +530 MB for 200,000 small documents, even when
    none matches). It answers ``count`` in SQL (0.2 s there, no memory), and a
    ``$count`` aggregation is no way out: its ``$match`` compares dates wrongly there.
    MongoDB 7 answers the ``count`` command exactly for a query on an unsharded
    collection.
    """
    reply = collection.database.command("count", collection.name, query=dict(query))
    return int(reply["n"])


def ping(client: MongoClient[dict[str, Any]]) -> bool:
    try:
        client.admin.command("ping")
    except Exception:
        return False
    return True
