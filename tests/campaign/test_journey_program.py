"""Journey definitions are validated with paths; the program walks steps as written."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from libs.common.rules import matches, parse_rules
from libs.common.sendwindow import zone
from services.campaign.journeys.definition import JourneyError, parse_journey
from services.campaign.journeys.program import END, Facts, Program

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)

FIRST_ORDER = {
    "name": "First order follow-up",
    "trigger": {"type": "order_placed", "firstOrder": True},
    "steps": [
        {"id": "wait3d", "type": "wait", "seconds": 3 * 86400},
        {
            "id": "again",
            "type": "branch",
            "orderedSinceEntry": True,
            "then": [{"id": "done", "type": "exit"}],
            "else": [
                {"id": "code", "type": "send", "message": "Hi {firstName}, 10% off: WELCOME10"},
            ],
        },
        {"id": "thanks", "type": "send", "message": "Thanks for shopping, {name}"},
    ],
    "goal": {"event": "order_placed"},
    "reentry": "never",
}


def facts(*, ordered: bool = False, customer: dict[str, Any] | None = None) -> Facts:
    doc = customer or {}
    return Facts(
        now=NOW,
        zone=zone("Asia/Kolkata"),
        matches=lambda rules: matches(parse_rules(rules), doc, NOW),
        ordered_since_entry=ordered,
    )


def test_entering_stops_at_the_first_wait_with_its_due_time() -> None:
    program = Program(parse_journey(FIRST_ORDER).steps)
    outcome = program.enter(facts())
    assert (outcome.state, outcome.position) == ("waiting", "wait3d")
    assert outcome.due == NOW + timedelta(days=3)
    assert outcome.sends == []


def test_a_customer_who_ordered_again_exits_without_a_message() -> None:
    program = Program(parse_journey(FIRST_ORDER).steps)
    outcome = program.resume("wait3d", facts(ordered=True))
    assert (outcome.state, outcome.position) == ("exited", "done")
    assert outcome.sends == []
    assert outcome.path == ["again", "done"]


def test_a_customer_who_did_not_gets_the_code_then_goes_on_after_the_branch() -> None:
    program = Program(parse_journey(FIRST_ORDER).steps)
    outcome = program.resume("wait3d", facts(ordered=False))
    assert outcome.state == "completed" and outcome.position == END
    assert [s.id for s in outcome.sends] == ["code", "thanks"]


def test_a_rules_branch_reads_the_customer_now() -> None:
    spec = parse_journey(
        {
            "name": "vip",
            "trigger": {"type": "customer_created"},
            "steps": [
                {
                    "id": "isvip",
                    "type": "branch",
                    "rules": {
                        "conditions": [{"field": "tags", "operator": "contains", "value": "vip"}]
                    },
                    "then": [{"id": "vipmsg", "type": "send", "message": "Welcome, VIP"}],
                    "else": [],
                }
            ],
        }
    )
    program = Program(spec.steps)
    assert [s.id for s in program.enter(facts(customer={"tags": ["vip"]})).sends] == ["vipmsg"]
    assert program.enter(facts(customer={"tags": ["new"]})).sends == []


def test_wait_until_a_local_time_is_due_at_that_time_in_the_customers_zone() -> None:
    spec = parse_journey(
        {
            "name": "morning",
            "trigger": {"type": "customer_created"},
            "steps": [
                {"id": "nine", "type": "wait", "until": "09:00"},
                {"id": "hello", "type": "send", "message": "Good morning"},
            ],
        }
    )
    outcome = Program(spec.steps).enter(facts())  # 15:30 in Kolkata: tomorrow 09:00 IST
    assert outcome.due == datetime(2026, 12, 4, 3, 30, tzinfo=UTC)


def test_resume_refuses_a_step_that_is_not_a_wait() -> None:
    program = Program(parse_journey(FIRST_ORDER).steps)
    with pytest.raises(ValueError):
        program.resume("thanks", facts())


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda j: j["steps"].append({"id": "wait3d", "type": "exit"}), "steps[3].id"),
        (lambda j: j["steps"][0].pop("seconds"), "steps[0]"),
        (lambda j: j["steps"][2].update(message="Hi {name.__class__}"), "steps[2].message"),
        (lambda j: j["steps"][1].pop("orderedSinceEntry"), "steps[1]"),
        (lambda j: j["trigger"].update(type="page_viewed"), "trigger"),
        (lambda j: j.update(reentry="always"), "reentry"),
        (lambda j: j.update(steps=[]), "steps"),
        (lambda j: j["steps"][0].update(id="has space"), "steps.0.wait.id"),
    ],
)
def test_bad_journeys_are_refused_with_the_path_of_the_problem(change: Any, path: str) -> None:
    raw = copy.deepcopy(FIRST_ORDER)
    change(raw)
    with pytest.raises(JourneyError) as caught:
        parse_journey(raw)
    paths = [p["path"] for p in caught.value.details]
    assert any(p.startswith(path) for p in paths), paths


def test_bad_rules_in_a_branch_are_named() -> None:
    raw = {
        "name": "x",
        "trigger": {"type": "segment_entered", "rules": {"conditions": []}},
        "steps": [
            {
                "id": "b",
                "type": "branch",
                "rules": {"conditions": [{"field": "nope", "operator": "=", "value": 1}]},
            }
        ],
    }
    with pytest.raises(JourneyError) as caught:
        parse_journey(raw)
    assert caught.value.details[0]["path"] == "steps[0].rules"
