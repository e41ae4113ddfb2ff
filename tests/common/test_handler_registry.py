"""Every entry type on every stream is handled or ignored on purpose by every group
that reads the stream: a new type cannot be dead-lettered ("no handler") by a group
nobody remembered to tell."""

from __future__ import annotations

from typing import Any

import pytest

from libs.common.events import EVENT_TYPES, CampaignLaunched, CustomersUpserted, OrdersRecorded
from libs.common.registry import Registry, on
from libs.common.streams.names import ALL_STREAMS, INGEST
from services.ai import worker as ai
from services.campaign import worker as campaign
from services.campaign.journeys import worker as journeys
from services.delivery import worker as delivery
from services.ingest import worker as ingest

REGISTRIES: list[Registry[Any]] = [
    *ingest.REGISTRIES,
    *campaign.REGISTRIES,
    campaign.CONSENT_HANDLERS,
    *journeys.REGISTRIES,
    *delivery.REGISTRIES,
    *ai.REGISTRIES,
]


@pytest.mark.parametrize("registry", REGISTRIES, ids=lambda r: f"{r.stream}:{r.group}")
def test_every_type_on_the_stream_is_handled_or_ignored(registry: Registry[Any]) -> None:
    assert registry.undeclared() == []
    on_stream = {t for t in EVENT_TYPES.values() if registry.stream == t.STREAM}
    assert set(registry.bind(object())) == on_stream


def test_every_stream_is_read_and_each_group_reads_it_once() -> None:
    pairs = [(r.stream, r.group) for r in REGISTRIES]
    assert len(pairs) == len(set(pairs))
    assert {r.stream for r in REGISTRIES} == set(ALL_STREAMS)


def test_a_type_left_out_is_reported() -> None:
    def noop(events: list[CustomersUpserted], deps: object) -> None:
        return None

    partial_table = Registry(INGEST, "g", routes=[on(CustomersUpserted, noop)])
    assert partial_table.undeclared() == [OrdersRecorded.TYPE]


def test_a_type_of_another_stream_or_declared_twice_is_refused() -> None:
    def noop(events: list[CampaignLaunched], deps: object) -> None:
        return None

    with pytest.raises(ValueError, match="not on stream"):
        Registry(INGEST, "g", routes=[on(CampaignLaunched, noop)])
    with pytest.raises(ValueError, match="more than once"):
        Registry(INGEST, "g", routes=[], ignored=[OrdersRecorded, OrdersRecorded])


def test_types_sharing_a_handler_share_one_bound_callable() -> None:
    table = delivery.RECEIPT_HANDLERS.bind(object())  # never run: the deps are not used
    handled = delivery.RECEIPT_HANDLERS.handled
    assert len({id(h) for t, h in table.items() if t in handled}) == 1
