"""Moving customers through a journey: entering, resuming after a wait, converting.

Pure: each function takes the journey, the customer's state document (or None), the
customer's projected document and the time, and returns the state to write and the
messages to send. The worker persists the states and publishes the sends.

A journey message is a ``send`` entry whose campaign id is ``jid.step.entry``: the
message id (``jid.step.entry:cid``) is then the stable idempotency key of (journey,
customer, entry, step), so delivery never sends it twice, however often a step is run
again after a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson

from libs.common.rules import matches, parse_rules
from libs.common.sendwindow import local_instant, next_local_time, zone
from services.campaign.clock import to_ms
from services.campaign.journeys.definition import (
    DateAttribute,
    JourneySpec,
    SendStep,
    parse_journey,
)
from services.campaign.journeys.program import Facts, Outcome, Program
from services.campaign.journeys.store import (
    CONVERTED,
    FINISHED,
    SCHEDULED,
    WAITING,
    state_id,
)

Doc = dict[str, Any]
JOURNEY_PREFIX = "jrn_"
HISTORY_MAX = 30


@dataclass(frozen=True)
class Journey:
    id: str
    spec: JourneySpec
    program: Program


@lru_cache(maxsize=256)
def _compiled(journey_id: str, updated_ms: int, raw: str) -> Journey:
    spec = parse_journey(orjson.loads(raw))
    return Journey(journey_id, spec, Program(spec.steps))


def compile_journey(doc: Doc) -> Journey:
    return _compiled(doc["_id"], int(doc.get("updated_ms", 0)), orjson.dumps(doc["spec"]).decode())


@dataclass(frozen=True)
class Send:
    journey_id: str
    step: SendStep
    entry: int
    customer_id: str

    @property
    def campaign_id(self) -> str:
        return message_campaign_id(self.journey_id, self.step.id, self.entry)


def message_campaign_id(journey_id: str, step_id: str, entry: int) -> str:
    return f"{journey_id}.{step_id}.{entry}"


def parse_message_campaign_id(campaign_id: str) -> tuple[str, str, int] | None:
    """(journey, step, entry) of a journey message's campaign id, None for a campaign's."""
    if not campaign_id.startswith(JOURNEY_PREFIX):
        return None
    parts = campaign_id.split(".")
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    return parts[0], parts[1], int(parts[2])


@dataclass
class Step:
    """What one move produced: the state to write (None: nothing changes) and sends."""

    state: Doc | None
    sends: list[Send] = field(default_factory=list)


def facts(customer: Doc | None, state: Doc | None, now: datetime, workspace_zone: str) -> Facts:
    doc = customer or {}

    def holds(rules: dict[str, Any]) -> bool:
        return matches(rules_of(rules), doc, now)

    return Facts(
        now=now,
        zone=zone(doc.get("timezone"), workspace_zone),
        matches=holds,
        ordered_since_entry=bool(state and state.get("ordered")),
    )


def rules_of(rules: dict[str, Any]) -> Any:
    """Parsed rules, cached by their JSON (a journey's rules are evaluated per customer)."""
    return _parsed_rules(orjson.dumps(rules, option=orjson.OPT_SORT_KEYS).decode())


@lru_cache(maxsize=512)
def _parsed_rules(raw: str) -> Any:
    return parse_rules(orjson.loads(raw))


def may_enter(journey: Journey, state: Doc | None, trigger_ref: str) -> bool:
    if state is None:
        return True
    if trigger_ref and state.get("trigger_ref") == trigger_ref:
        return False  # the same order or change delivered again
    if state.get("position") == SCHEDULED:
        return True
    if state["status"] not in FINISHED:
        return False  # in the journey now
    return journey.spec.reentry == "after_exit"


def enter(
    journey: Journey,
    state: Doc | None,
    customer: Doc | None,
    customer_id: str,
    trigger_ref: str,
    now: datetime,
    workspace_zone: str,
) -> Step:
    if not may_enter(journey, state, trigger_ref):
        return Step(None)
    entry = int(state.get("entry", 0)) + 1 if state else 1
    fresh: Doc = {
        "_id": state_id(journey.id, customer_id),
        "journey_id": journey.id,
        "customer_id": customer_id,
        "entry": entry,
        "entered_ms": to_ms(now),
        "trigger_ref": trigger_ref,
        "ordered": False,
        "path": [],
        "sent": [],
        # present from the start: nx-27017's $addToSet does not create a missing array
        "failed": [],
        "history": list(state.get("history", [])) if state else [],
    }
    _note(fresh, now, "entered", trigger_ref or "trigger")
    outcome = journey.program.enter(facts(customer, fresh, now, workspace_zone))
    return _moved(journey, fresh, outcome, now)


def resume(
    journey: Journey, state: Doc, customer: Doc | None, now: datetime, workspace_zone: str
) -> Step:
    """A due wait (or a scheduled date-attribute entry) goes on."""
    if state.get("position") == SCHEDULED:
        return enter(journey, state, customer, state["customer_id"], "", now, workspace_zone)
    doc = dict(state)
    outcome = journey.program.resume(state["position"], facts(customer, doc, now, workspace_zone))
    return _moved(journey, doc, outcome, now)


def convert(state: Doc, now: datetime, reason: str) -> Doc:
    doc = dict(state)
    doc.update(status=CONVERTED, due_ms=0, lease_ms=0, updated_ms=to_ms(now))
    _note(doc, now, "converted", reason)
    return doc


def schedule(
    journey: Journey, state: Doc | None, customer: Doc, now: datetime, workspace_zone: str
) -> Doc | None:
    """A date-attribute journey's next entry for this customer, as a waiting state at
    the SCHEDULED position; None when there is none to plan."""
    trigger = journey.spec.trigger
    assert isinstance(trigger, DateAttribute)
    if state is not None and (state["status"] == WAITING and state.get("position") != SCHEDULED):
        return None
    if state is not None and state["status"] in FINISHED and journey.spec.reentry == "never":
        return None
    due = date_due(trigger, customer, now, workspace_zone)
    if due is None:
        return None
    doc: Doc = (
        dict(state)
        if state
        else {
            "_id": state_id(journey.id, customer["_id"]),
            "journey_id": journey.id,
            "customer_id": customer["_id"],
            "entry": 0,
            "history": [],
        }
    )
    if doc.get("position") == SCHEDULED and doc.get("due_ms") == to_ms(due):
        return None
    doc.update(
        status=WAITING, position=SCHEDULED, due_ms=to_ms(due), lease_ms=0, updated_ms=to_ms(now)
    )
    return doc


def date_due(
    trigger: DateAttribute, customer: Doc, now: datetime, workspace_zone: str
) -> datetime | None:
    path = {"lastVisit": "last_visit", "lastOrderAt": "last_order_at", "createdAt": "created_at"}
    value = customer.get(path[trigger.field])
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    tz = zone(customer.get("timezone"), workspace_zone)
    base = value + timedelta(days=trigger.offset_days)
    if not trigger.yearly:
        due = local_instant(base, trigger.at, tz)
        return due if due >= now - timedelta(days=1) else None
    local = base.astimezone(tz)
    for year in range(now.astimezone(tz).year, now.astimezone(tz).year + 2):
        try:
            day = local.replace(year=year)
        except ValueError:  # 29 February in a common year: the 28th
            day = local.replace(year=year, day=28)
        due = local_instant(day, trigger.at, tz)
        if due >= now:
            return due
    return next_local_time(now, trigger.at, tz)


def _moved(journey: Journey, doc: Doc, outcome: Outcome, now: datetime) -> Step:
    doc["status"] = outcome.state
    doc["position"] = outcome.position
    doc["due_ms"] = to_ms(outcome.due) if outcome.due else 0
    doc["lease_ms"] = 0
    doc["updated_ms"] = to_ms(now)
    doc["path"] = [*doc.get("path", []), *outcome.path]
    entry = int(doc["entry"])
    sends = [Send(journey.id, s, entry, doc["customer_id"]) for s in outcome.sends]
    doc["sent"] = list(dict.fromkeys([*doc.get("sent", []), *(s.id for s in outcome.sends)]))
    for step_id in outcome.path:
        _note(doc, now, "step", step_id)
    if outcome.state != WAITING:
        _note(doc, now, outcome.state, outcome.position or "end")
    return Step(doc, sends)


def _note(doc: Doc, now: datetime, event: str, detail: str) -> None:
    history = [
        *doc.get("history", []),
        {"at_ms": to_ms(now), "entry": doc.get("entry", 0), "event": event, "detail": detail},
    ]
    doc["history"] = history[-HISTORY_MAX:]
