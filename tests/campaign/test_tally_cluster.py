"""The campaign tally's Lua script on a six-node Redis Cluster: a campaign's two keys
share its hash tag, campaigns of one batch land on different slots."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from services.campaign.tally import Tally
from tests.campaign import test_tally as single
from tests.campaign.test_tally import counts, state

pytestmark = pytest.mark.integration


def test_any_order_and_redelivery_count_each_message_once_on_a_cluster(cluster_client):
    env = SimpleNamespace(redis=cluster_client)
    for check in (
        lambda: single.test_any_order_and_any_redelivery_counts_each_message_once(env, 3),
        lambda: single.test_first_final_wins_and_apply_reports_only_changes(env),
        lambda: single.test_timeout_turns_only_sent_messages_unknown(env),
    ):
        cluster_client.flushall(target_nodes="primaries")
        check()


def test_one_batch_of_campaigns_on_different_shards_is_counted_apart(cluster_client):
    tally = Tally(cluster_client)
    campaigns = [f"cmp{n}" for n in range(12)]
    slots = {cluster_client.keyslot(f"{{{c}}}") for c in campaigns}
    assert len(slots) > 3, "the batch spans slots (and shards)"
    batch = [state(c, f"u{n}", "sent") for c in campaigns for n in range(5)]
    assert tally.apply(batch + batch) == 60
    assert tally.apply([state(c, "u0", "delivered") for c in campaigns]) == 12
    for c in campaigns:
        got = counts(tally, c)
        assert (got["sent"], got["delivered"]) == (4, 1), c
