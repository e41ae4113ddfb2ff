"""The audience read model restarts from its snapshot: restored rather than read from
the database, faster, and with the changes written after the snapshot applied."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pymongo
import pytest
from fastapi.testclient import TestClient
from ingest_helpers import customer, wait_columns_current

from bench.data import preview_rules, stored_customer
from libs.common.testing.pytest_plugin import CleanEnv, wait_until
from services.ingest.audience import snapshot
from services.ingest.audience.columns import StringTable
from services.ingest.settings import IngestSettings

pytestmark = pytest.mark.integration

ROWS = 20_000


def _model_ready(api: TestClient) -> Any:
    model = api.app.state.preview  # type: ignore[attr-defined]
    wait_until(lambda: model.ready, timeout=120)
    wait_columns_current(api)
    return model


def _count(api: TestClient, rules: dict[str, Any]) -> int:
    answer = api.post("/api/customers/preview", json={"rules": rules, "sampleSize": 0})
    assert answer.status_code == 200, answer.text
    assert answer.json()["source"] == "columns"
    return int(answer.json()["count"])


def test_a_restart_restores_the_snapshot_and_replays_the_changes_after_it(
    make_api: Callable[..., TestClient],
    drain: Callable[[str], int],
    settings: IngestSettings,
    clean_env: CleanEnv,
    tmp_path: Path,
) -> None:
    db = pymongo.MongoClient(settings.mongodb_uri)[settings.database_name("ingest")]
    for start in range(0, ROWS, 5000):
        db.customers.insert_many([stored_customer(i) for i in range(start, start + 5000)])
    snapshots = str(tmp_path / "snapshots")

    first = make_api(snapshot_dir=snapshots)
    model = _model_ready(first)
    assert not model.restored and model.columns.n == ROWS
    database_load_s = model.load_seconds
    # written after the load, on a thread: the model answers before the file is there
    # (a busy machine took longer than this test's next line to pickle 20,000 rows)
    saved = snapshot.snapshot_path(snapshots, db.name)
    wait_until(saved.exists, timeout=60)
    everyone = {"operator": "AND", "conditions": []}
    assert _count(first, everyone) == ROWS
    selective = preview_rules()  # numbers, dates and a text column's vocabulary
    selected = _count(first, selective)
    assert 0 < selected < ROWS
    first.__exit__(None, None, None)

    # written while no model runs: reaches the next one only as a change notice
    writer = make_api(columns_enabled=False)
    answer = writer.post("/api/customers", json=customer("after-snapshot", city="Snapshotville"))
    assert answer.status_code == 202, answer.text
    drain("ingest")

    second = make_api(snapshot_dir=snapshots)
    started = time.perf_counter()
    restored = _model_ready(second)
    assert restored.restored
    assert restored.load_seconds < database_load_s, (restored.load_seconds, database_load_s)
    assert _count(second, everyone) == ROWS + 1
    assert _count(second, selective) == selected
    city = {
        "operator": "AND",
        "conditions": [{"field": "name", "operator": "=", "value": "Customer after-snapshot"}],
    }
    assert _count(second, city) == 1
    assert time.perf_counter() - started < 60


def test_a_snapshot_the_stream_no_longer_continues_is_not_used() -> None:
    saved = snapshot.Snapshot(columns=None, last_id="100-0", consumed=5)  # type: ignore[arg-type]
    current = {"entries-added": 9, "length": 4, "last-generated-id": b"200-0"}
    assert snapshot.covers(saved, current)  # entries 6..9 are all there
    assert not snapshot.covers(saved, {**current, "length": 3})  # entry 6 was trimmed
    assert not snapshot.covers(saved, {"entries-added": 2, "length": 2})  # a newer stream
    assert not snapshot.covers(saved, {**current, "last-generated-id": b"50-0"})


def test_a_restored_string_table_finds_its_values_in_a_process_with_another_hash_seed(
    tmp_path: Path,
) -> None:
    """``hash`` of a str differs between processes: the packed part's hash index is
    rebuilt on load, or a city written before the snapshot would match nothing."""
    values = [f"city-{i}" for i in range(300)]
    table = StringTable()
    table.MIN_PACK = 100  # pack at this small size, as 65,536 strings would
    table.codes(values)
    assert table._packed > 0
    path = tmp_path / "table.pickle"
    path.write_bytes(pickle.dumps(table))
    script = (
        "import pickle, sys; t = pickle.load(open(sys.argv[1], 'rb')); "
        "print(','.join(str(t.find(f'city-{i}')) for i in range(300)))"
    )
    for seed in ("1", "2"):
        found = subprocess.run(
            [sys.executable, "-c", script, str(path)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert found == ",".join(str(i) for i in range(300))
