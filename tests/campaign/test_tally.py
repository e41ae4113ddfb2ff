"""The Redis tally: counters always equal what the per-message states say."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import pytest

from libs.common.testing.pytest_plugin import CleanEnv
from services.campaign import stats
from services.campaign.tally import MessageState, Tally

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 5, 10, 0, 3, tzinfo=UTC)
FINALS = ("delivered", "failed", "rejected", "cancelled")


def state(cid: str, customer: str, status: str) -> MessageState:
    reason = "no route" if status in ("failed", "rejected") else None
    return MessageState(f"{cid}:{customer}", cid, customer, status, T0, reason)


def counts(tally: Tally, cid: str) -> dict[str, int]:
    return stats.figures_from_groups(tally.groups(cid)).counts


@pytest.mark.parametrize("seed", range(5))
def test_any_order_and_any_redelivery_counts_each_message_once(
    clean_env: CleanEnv, seed: int
) -> None:
    rng = random.Random(seed)
    tally = Tally(clean_env.redis)
    cid = f"cmp_{seed}"
    # Each message: maybe sent, then maybe one final status (rejected/cancelled never sent).
    expected: dict[str, str] = {}
    entries: list[MessageState] = []
    for n in range(300):
        customer = f"u{n}"
        final = rng.choice([*FINALS, None])
        if final in (None, "delivered", "failed"):
            entries.append(state(cid, customer, "sent"))
        if final is not None:
            entries.append(state(cid, customer, final))
        expected[customer] = final or "sent"
    # Every entry delivered one to three times, in any order, in batches of any size.
    stream = [e for e in entries for _ in range(rng.randint(1, 3))]
    rng.shuffle(stream)
    while stream:
        size = rng.randint(1, 60)
        tally.apply(stream[:size])
        stream = stream[size:]
    want = Counter(expected.values())
    got = counts(tally, cid)
    assert {s: got[s] for s in stats.RANKS} == {s: want.get(s, 0) for s in stats.RANKS}


def test_first_final_wins_and_apply_reports_only_changes(clean_env: CleanEnv) -> None:
    tally = Tally(clean_env.redis)
    assert tally.apply([state("c", "a", "sent"), state("c", "b", "sent")]) == 2
    assert tally.apply([state("c", "a", "delivered"), state("c", "a", "failed")]) == 1
    assert tally.apply([state("c", "a", "failed"), state("c", "a", "sent")]) == 0
    got = counts(tally, "c")
    assert (got["sent"], got["delivered"], got["failed"]) == (1, 1, 0)


def test_timeout_turns_only_sent_messages_unknown(clean_env: CleanEnv) -> None:
    tally = Tally(clean_env.redis)
    tally.apply([state("c", f"s{n}", "sent") for n in range(2500)])
    tally.apply([state("c", f"s{n}", "delivered") for n in range(1000)])
    tally.apply([state("c", "r", "rejected")])
    assert tally.mark_unknown("c", T0) == 1500
    got = counts(tally, "c")
    assert (got["sent"], got["delivered"], got["unknown"], got["failed"]) == (0, 1000, 1500, 0)
    assert got["rejected"] == 1


def test_campaigns_are_counted_apart_and_nothing_is_written_to_the_database(
    clean_env: CleanEnv,
) -> None:
    tally = Tally(clean_env.redis)
    tally.apply([state("c1", "a", "sent"), state("c2", "a", "delivered")])
    assert counts(tally, "c1")["sent"] == 1 and counts(tally, "c1")["delivered"] == 0
    assert counts(tally, "c2")["sent"] == 0 and counts(tally, "c2")["delivered"] == 1
    assert clean_env.mongo.list_database_names() == [] or all(
        "campaign_messages" not in clean_env.mongo[name].list_collection_names()
        for name in clean_env.mongo.list_database_names()
        if name.startswith(clean_env.db_prefix)
    )
