"""The preview says how many delivery will defer for quiet hours or skip as capped:
group ``pacing`` keeps what delivery announced, the read model (and the database, when
the model is not current) counts it; a restart or a snapshot keeps it (real Redis and
the real DB, the API in-process)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from ingest_helpers import customer, wait_columns_current

from libs.common.events import (
    CappedCustomer,
    CapRule,
    CapsReached,
    DeliveryPolicyChanged,
    ErasureRequested,
    Event,
    QuietWindow,
)
from libs.common.streams import StreamProducer
from libs.common.testing.pytest_plugin import CleanEnv, wait_until

pytestmark = pytest.mark.integration
EVERYONE = {"operator": "AND", "conditions": []}


def quiet_now_in(zone_name: str) -> QuietWindow:
    """Quiet hours holding now in ``zone_name`` (from an hour ago, for two hours more):
    not in UTC (9 h behind Tokyo) nor New York."""
    local = datetime.now(UTC).astimezone(ZoneInfo(zone_name))
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    return QuietWindow(start=start, end=(local + timedelta(hours=2)).strftime("%H:%M"))


def policy(at: datetime, quiet: bool = True, cap: bool = True) -> DeliveryPolicyChanged:
    return DeliveryPolicyChanged(
        quiet_hours=quiet_now_in("Asia/Tokyo") if quiet else None,
        frequency_cap=CapRule(messages=1, per_days=1) if cap else None,
        timezone="UTC",
        changed_at=at,
    )


def capped(channel: str, *people: tuple[str, datetime]) -> CapsReached:
    return CapsReached(
        channel=channel,
        customers=[CappedCustomer(customer_id=c, until=u) for c, u in people],
    )


def seed(api: TestClient, drain: Callable[[str], int]) -> None:
    people = [
        customer("tk1", timezone="Asia/Tokyo"),
        customer("tk2", timezone="Asia/Tokyo"),
        customer("ny1", timezone="America/New_York"),
        customer("u1"),
        customer("u2"),
        customer("u3", phone="+15550000003"),
    ]
    assert api.post("/api/customers/batch", json={"customers": people}).status_code == 202
    drain("ingest")


def announce(clean_env: CleanEnv, drain: Callable[[str], int], *events: Event) -> None:
    StreamProducer(clean_env.redis).publish(list(events))
    drain("pacing")


def paced(api: TestClient, **extra: Any) -> tuple[int, int]:
    body = {"rules": EVERYONE, "sampleSize": 0, **extra}
    answer = api.post("/api/customers/preview", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()["deferred"], answer.json()["capped"]


def test_preview_counts_deferred_and_capped_from_columns_and_database_alike(
    make_api: Callable[..., TestClient], drain: Callable[[str], int], clean_env: CleanEnv
) -> None:
    columns_api, database_api = make_api(), make_api(columns_enabled=False)
    seed(database_api, drain)
    now = datetime.now(UTC)
    assert paced(database_api) == (0, 0)  # no policy announced: nothing to count
    day = now + timedelta(days=1)
    announce(
        clean_env,
        drain,
        policy(now),
        # tk1 is quiet now (deferred first, as delivery does); u2's cap is over
        capped("email", ("tk1", day), ("u1", day), ("u2", now - timedelta(minutes=1))),
        capped("sms", ("u3", day)),
    )
    wait_columns_current(columns_api)
    for api in (columns_api, database_api):
        assert paced(api) == (2, 1)
        assert paced(api, channel="sms") == (2, 1)
        # three hours on, Tokyo's quiet hours are over and tk1 is capped too
        later = (now + timedelta(hours=3)).isoformat()
        assert paced(api, sendAt=later) == (0, 2)
        # two days on, every cap has freed
        assert paced(api, sendAt=(now + timedelta(days=2, hours=3)).isoformat()) == (0, 0)
    # the GET form takes the same parameters
    get = columns_api.get(
        "/api/customers/preview",
        params={"rules": '{"operator":"AND","conditions":[]}', "sendAt": later},
    )
    assert (get.json()["deferred"], get.json()["capped"], get.json()["source"]) == (0, 2, "columns")
    # an announcement older than the kept policy changes nothing; a newer one does
    announce(clean_env, drain, policy(now - timedelta(hours=1), quiet=False, cap=False))
    assert paced(database_api) == (2, 1)
    announce(clean_env, drain, policy(now + timedelta(seconds=1), quiet=False))
    assert paced(database_api) == paced(columns_api) == (0, 2)


def test_caps_survive_a_restart_and_a_snapshot_and_erasure_forgets_them(
    make_api: Callable[..., TestClient],
    drain: Callable[[str], int],
    clean_env: CleanEnv,
    tmp_path: Path,
) -> None:
    snapshots = str(tmp_path / "snapshots")
    first = make_api(snapshot_dir=snapshots)
    seed(first, drain)
    now = datetime.now(UTC)
    day = now + timedelta(days=1)
    announce(clean_env, drain, policy(now, quiet=False), capped("email", ("u1", day)))
    wait_columns_current(first)
    assert paced(first) == (0, 1)
    first.__exit__(None, None, None)

    # loaded from the database (caps from capped_customers), then from the snapshot
    # the first process wrote, replaying the notices after it
    fresh = make_api()
    wait_until(lambda: fresh.app.state.preview.ready, timeout=60)  # type: ignore[attr-defined]
    wait_columns_current(fresh)
    assert paced(fresh) == (0, 1)
    announce(clean_env, drain, capped("email", ("u2", day)))
    restored = make_api(snapshot_dir=snapshots)
    model = restored.app.state.preview  # type: ignore[attr-defined]
    wait_until(lambda: model.ready, timeout=60)
    wait_columns_current(restored)
    assert model.restored
    assert paced(restored) == (0, 2)

    StreamProducer(clean_env.redis).publish([ErasureRequested(customer_id="u1", requested_at=now)])
    drain("consent")
    kept = clean_env.db("ingest")["capped_customers"]
    assert [d["customer_id"] for d in kept.find()] == ["u2"]
