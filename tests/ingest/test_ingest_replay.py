"""A stalled campaign's launch replayed: the stored audience is sent again, as it was
resolved (not as the rules select today), and a walk still under way is left alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from ingest_helpers import customer
from test_ingest_audience import resolved, seed, sends

from libs.common.events import CampaignLaunched
from libs.common.streams import StreamProducer
from libs.common.testing.pytest_plugin import CleanEnv
from services.ingest.audience.launches import handle_launches, walk_alive
from services.ingest.handlers import Deps

pytestmark = pytest.mark.integration

EVERYONE = {"operator": "AND", "conditions": []}


def launch_event(campaign_id: str, *, replay: bool = False) -> CampaignLaunched:
    return CampaignLaunched(
        campaign_id=campaign_id,
        name="Replayed",
        rules=EVERYONE,
        message="Hi {firstName}",
        fields=["firstName"],
        replay=replay,
    )


def age_resolution(deps: Deps, campaign_id: str) -> None:
    """As if the walk (or replay) last saved progress five minutes ago."""
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    deps.store.resolutions.update_one(
        {"_id": campaign_id}, {"$set": {"saved_ms": int(long_ago.timestamp() * 1000)}}
    )


def test_a_replayed_launch_sends_the_audience_as_resolved_again(
    api: TestClient, drain: Callable[[str], int], deps: Deps, clean_env: CleanEnv
) -> None:
    seed(api, drain, n=40)
    deps.settings.send_chunk_size = 7
    deps.settings.send_chunks_per_flush = 2
    handle_launches([launch_event("camp-r")], deps)
    first = sends(clean_env)
    assert sum(len(c.recipients) for c in first) == 40 and not any(c.replay for c in first)
    # joins after the resolution: the rules would select them today, the audience did not
    api.post("/api/customers", json=customer("late", totalSpends=1))
    drain("ingest")

    handle_launches([launch_event("camp-r", replay=True)], deps)
    assert len(sends(clean_env)) == len(first)  # the walk just ended: too early
    age_resolution(deps, "camp-r")
    handle_launches([launch_event("camp-r", replay=True)], deps)
    again = sends(clean_env)[len(first) :]
    assert all(c.replay for c in again)
    assert [(c.chunk, [r.customer_id for r in c.recipients]) for c in again] == [
        (c.chunk, [r.customer_id for r in c.recipients]) for c in first
    ]
    assert [r.fields for c in again for r in c.recipients] == [
        r.fields for c in first for r in c.recipients
    ]
    assert [r.total for r in resolved(clean_env)] == [40, 40]  # the size is announced again
    handle_launches([launch_event("camp-r", replay=True)], deps)  # replays do not stack
    assert len(sends(clean_env)) == 2 * len(first)


def test_a_replay_leaves_a_live_walk_alone_and_resumes_a_dead_one(
    api: TestClient, drain: Callable[[str], int], deps: Deps, clean_env: CleanEnv
) -> None:
    seed(api, drain, n=10)
    now = datetime.now(UTC)
    deps.store.start_resolution("camp-w", now)
    deps.store.save_resolution("camp-w", chunks=0, total=0, last_id=None, done=False)
    assert walk_alive(deps.store.get_resolution("camp-w") or {}, now, 60)
    handle_launches([launch_event("camp-w", replay=True)], deps)
    assert sends(clean_env) == []

    assert not walk_alive(deps.store.get_resolution("camp-w") or {}, now + timedelta(minutes=2), 60)
    age_resolution(deps, "camp-w")
    handle_launches([launch_event("camp-w", replay=True)], deps)
    assert sum(len(c.recipients) for c in sends(clean_env)) == 10


def test_the_segment_group_routes_launches_through_the_replay_check(
    api: TestClient, drain: Callable[[str], int], deps: Deps, clean_env: CleanEnv
) -> None:
    seed(api, drain, n=12)
    StreamProducer(clean_env.redis).publish([launch_event("camp-g")])
    drain("segment")
    age_resolution(deps, "camp-g")
    StreamProducer(clean_env.redis).publish([launch_event("camp-g", replay=True)])
    drain("segment")
    chunks = sends(clean_env)
    assert sum(len(c.recipients) for c in chunks if not c.replay) == 12
    assert sum(len(c.recipients) for c in chunks if c.replay) == 12
