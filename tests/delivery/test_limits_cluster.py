"""Rate limiter and auto-pause window on a six-node Redis Cluster: the global and the
campaign window keys lie in different slots, so they are no MULTI there."""

from __future__ import annotations

import pytest

from tests.delivery import test_limits as single

pytestmark = pytest.mark.integration


def test_rate_limits_hold_on_a_cluster(cluster_client) -> None:
    single.test_campaign_limit_spreads_a_large_batch_over_windows(cluster_client)
    cluster_client.flushall(target_nodes="primaries")
    single.test_global_limit_is_shared_by_campaigns_and_refunds_what_did_not_fit(cluster_client)


def test_autopause_trips_once_on_a_cluster(cluster_client) -> None:
    single.test_autopause_trips_once_when_the_window_is_full_and_over_threshold(cluster_client)
