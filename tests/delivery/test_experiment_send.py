"""Delivery of a campaign with variants: each recipient's message, the holdout never
messaged, and the customers waiting for a test's winner."""

from __future__ import annotations

from typing import Any

import pytest

from libs.common.events import (
    Experiment,
    MessagesHeldOut,
    MessagesSent,
    VariantSpec,
    WinnerChosen,
)
from libs.common.streams.names import RECEIPT
from tests.delivery.conftest import (
    chunk,
    publish,
    read_stream,
    recipients,
    rows,
    run,
    send_and_record,
    vendor_stats,
)

pytestmark = pytest.mark.integration

MESSAGES = {"A": "A for {firstName}", "B": "B for {firstName}"}


def experiment(**kw: Any) -> Experiment:
    variants = [VariantSpec(id=v, message=m, share_bp=5000) for v, m in MESSAGES.items()]
    return Experiment(variants=variants, holdout_bp=1000, **kw)


def test_each_recipient_gets_their_variant_and_the_holdout_nothing(deps, vendor) -> None:
    setup = experiment()
    people = recipients(200)
    event = chunk("x1", people, message=MESSAGES["A"], experiment=setup)
    publish(deps, [event])
    send_and_record(deps)
    publish(deps, [event])  # the same chunk again: nothing sent twice
    send_and_record(deps)
    stored = rows(deps, "x1")
    assert len(stored) == 200
    held = {p.customer_id for p in people if setup.assign("x1", p.customer_id).held_out}
    assert 5 < len(held) < 40
    for person in people:
        row = stored[f"x1:{person.customer_id}"]
        group = setup.assign("x1", person.customer_id).group
        if person.customer_id in held:
            assert row["status"] == "holdout" and "body" not in row
        else:
            first = person.name.split()[0] if person.name else ""
            assert row["body"] == MESSAGES[group].replace("{firstName}", first)
    assert vendor_stats(vendor)["accepted"] == 200 - len(held)
    announced = [e for e in read_stream(deps, RECEIPT) if isinstance(e, MessagesHeldOut)]
    assert [set(e.customer_ids) for e in announced] == [held]
    sent = {
        m.customer_id
        for e in read_stream(deps, RECEIPT)
        if isinstance(e, MessagesSent)
        for m in e.messages
    }
    assert not sent & held


def test_a_tests_rest_waits_and_gets_the_winner_once_chosen(deps, vendor) -> None:
    setup = experiment(test_bp=3000)
    people = recipients(200)
    publish(deps, [chunk("x2", people, message=MESSAGES["A"], experiment=setup)])
    send_and_record(deps)
    plan = {p.customer_id: setup.assign("x2", p.customer_id) for p in people}
    waiting = {c for c, a in plan.items() if not a.held_out and not a.in_test}
    tested = {c for c, a in plan.items() if not a.held_out and a.in_test}
    stored = rows(deps, "x2")
    assert {c for c in waiting if stored[f"x2:{c}"]["status"] == "waiting"} == waiting
    assert vendor_stats(vendor)["accepted"] == len(tested)

    chosen = WinnerChosen(
        campaign_id="x2", send="B", message=MESSAGES["B"], metric="deliveryRate", confidence=0.95
    )
    publish(deps, [chosen])
    run(deps, "control")
    run(deps, "receipt")
    stored = rows(deps, "x2")
    assert vendor_stats(vendor)["accepted"] == len(tested) + len(waiting)
    for c in waiting:
        row = stored[f"x2:{c}"]
        assert row["status"] == "sent" and row["body"].startswith("B for ")
        assert "recipient" not in row
    publish(deps, [chosen])  # announced again: nothing is sent twice
    run(deps, "control")
    assert vendor_stats(vendor)["accepted"] == len(tested) + len(waiting)
