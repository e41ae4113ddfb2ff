"""A saved copy of the audience read model, so a restart restores it instead of
reading every customer from the database (minutes at 1M customers on nx-27017).

The snapshot holds the columns and the position in ``ingest.changes`` they are current
to; a process that restores it replays only the notices after that position. It is
used only when every one of those notices is still in the stream (it is capped: a
snapshot older than the oldest kept notice would miss changes) and the stream is the
one it was taken from; otherwise the model loads from the database, as before.

One file per database in ``INGEST_SNAPSHOT_DIR``, written to a temporary name and
renamed, so a reader never sees half a file and processes that share the directory
(the API and the segment worker) may all write it. The file is a pickle: the
directory must be private to the ingest service.
"""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from libs.common.logging import get_logger
from services.ingest.audience.columns import PROJECTION, Columns

log = get_logger(__name__)

# Changes whenever the columns' layout does: an older snapshot is then ignored.
FORMAT = (2, tuple(sorted(PROJECTION)))  # 2: the columns hold ``capped``


@dataclass
class Snapshot:
    columns: Columns
    last_id: str  # the last ingest.changes entry the columns hold
    consumed: int  # entries ever added to ingest.changes up to and with last_id
    format: tuple[Any, ...] = FORMAT
    written_at: float = field(default_factory=time.time)


def snapshot_path(directory: str, database: str) -> Path:
    return Path(directory) / f"{database}.audience.pickle"


def save(directory: str, database: str, snapshot: Snapshot) -> int:
    """Write the snapshot; returns its size in bytes."""
    path = snapshot_path(directory, database)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    with partial.open("wb") as out:
        pickle.dump(snapshot, out, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, path)
    return path.stat().st_size


def load(directory: str, database: str) -> Snapshot | None:
    """The saved snapshot, or None when there is none usable."""
    path = snapshot_path(directory, database)
    try:
        with path.open("rb") as source:
            snapshot = pickle.load(source)  # our own file: see the docstring
    except FileNotFoundError:
        return None
    except Exception as exc:  # a torn or foreign file: load from the database instead
        log.warning("snapshot.unreadable", path=str(path), error=str(exc)[:200])
        return None
    if not isinstance(snapshot, Snapshot) or snapshot.format != FORMAT:
        log.info("snapshot.other_format", path=str(path))
        return None
    return snapshot


def id_tuple(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def covers(snapshot: Snapshot, stream: dict[str, Any]) -> bool:
    """Does ``ingest.changes`` (its XINFO STREAM) still hold every notice after the
    snapshot, and is it the stream the snapshot was taken from?"""
    added = int(stream.get("entries-added", 0))
    length = int(stream.get("length", 0))
    last = stream.get("last-generated-id", b"0-0")
    last_id = last.decode() if isinstance(last, bytes) else str(last)
    if snapshot.consumed > added or id_tuple(snapshot.last_id) > id_tuple(last_id):
        return False  # a newer stream than the snapshot's (Redis emptied)
    return added - length <= snapshot.consumed  # nothing after it was trimmed
