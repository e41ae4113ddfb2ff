"""Journey definitions and their figures: create (draft), activate, pause, archive,
read, stats, and where a customer is in each journey."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from libs.common.errors import Conflict, NotFound
from services.campaign.clock import from_ms, to_ms
from services.campaign.journeys.definition import parse_journey
from services.campaign.journeys.runner import JOURNEY_PREFIX
from services.campaign.journeys.store import (
    COMPLETED,
    CONVERTED,
    EXITED,
    SCHEDULED,
    WAITING,
    JourneyStore,
)

Doc = dict[str, Any]

# action -> (the statuses it may start from, the status it leads to)
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "activate": (("draft", "paused"), "active"),
    "pause": (("active",), "paused"),
    "archive": (("draft", "active", "paused"), "archived"),
}


class JourneyService:
    def __init__(self, store: JourneyStore) -> None:
        self.store = store

    def create(self, raw: Any, created_by: str | None, now: datetime) -> Doc:
        spec = parse_journey(raw)
        doc: Doc = {
            "_id": f"{JOURNEY_PREFIX}{secrets.token_hex(6)}",
            "name": spec.name.strip(),
            "status": "draft",
            "spec": spec.model_dump(mode="json", by_alias=True, exclude_none=True),
            "created_by": created_by,
            "created_ms": to_ms(now),
            "updated_ms": to_ms(now),
        }
        self.store.insert_journey(doc)
        return doc

    def get(self, journey_id: str) -> Doc:
        doc = self.store.get_journey(journey_id)
        if doc is None:
            raise NotFound(f"journey {journey_id} not found")
        return doc

    def act(self, journey_id: str, action: str, now: datetime) -> Doc:
        current = self.get(journey_id)
        allowed, target = ACTIONS[action]
        if current["status"] == target:
            return current  # asked twice: the same answer
        doc = self.store.set_status(journey_id, allowed, target, to_ms(now))
        if doc is None or doc["status"] != target:
            raise Conflict(
                f"a {current['status']} journey cannot {action}",
                [{"field": "status", "message": f"{action} needs one of {', '.join(allowed)}"}],
            )
        return doc

    def stats(self, journey_id: str) -> Doc:
        doc = self.get(journey_id)
        states = self.store.states_of_journey(
            journey_id, {"entry": 1, "status": 1, "position": 1, "path": 1, "sent": 1, "failed": 1}
        )
        entered = sum(int(s.get("entry", 0)) for s in states)
        real = [s for s in states if s.get("position") != SCHEDULED or int(s.get("entry", 0)) > 0]
        steps = []
        for step_id in step_ids(doc["spec"]["steps"]):
            steps.append(
                {
                    "id": step_id,
                    "entered": sum(step_id in s.get("path", []) for s in real),
                    "waiting": sum(
                        s["status"] == WAITING and s.get("position") == step_id for s in real
                    ),
                    "sent": sum(step_id in s.get("sent", []) for s in real),
                    "failed": sum(step_id in s.get("failed", []) for s in real),
                }
            )
        return {
            "entered": entered,
            "active": sum(
                s["status"] == WAITING and s.get("position") != SCHEDULED for s in states
            ),
            "completed": sum(s["status"] == COMPLETED for s in states),
            "converted": sum(s["status"] == CONVERTED for s in states),
            "exited": sum(s["status"] == EXITED for s in states),
            "scheduled": sum(
                s["status"] == WAITING and s.get("position") == SCHEDULED for s in states
            ),
            "steps": steps,
        }

    def of_customer(self, customer_id: str) -> list[Doc]:
        states = self.store.states_of_customer(customer_id)
        names = {d["_id"]: d for d in self.store.list_journeys()}
        out = []
        for s in sorted(states, key=lambda s: -int(s.get("updated_ms", 0))):
            journey = names.get(s["journey_id"])
            out.append(
                {
                    "journeyId": s["journey_id"],
                    "journeyName": journey["name"] if journey else None,
                    "entry": s.get("entry", 0),
                    "status": "scheduled" if s.get("position") == SCHEDULED else s["status"],
                    "position": None if s.get("position") in ("", SCHEDULED) else s.get("position"),
                    "dueAt": _iso(s.get("due_ms")) if s["status"] == WAITING else None,
                    "orderedSinceEntry": bool(s.get("ordered")),
                    "sent": s.get("sent", []),
                    "history": [
                        {
                            "at": _iso(h["at_ms"]),
                            "entry": h["entry"],
                            "event": h["event"],
                            "detail": h["detail"],
                        }
                        for h in s.get("history", [])
                    ],
                }
            )
        return out


def _iso(ms: int | None) -> str | None:
    return from_ms(ms).isoformat() if ms else None


def step_ids(steps: list[Doc]) -> list[str]:
    """Every step id, depth first, in the order the editor shows them."""
    out: list[str] = []
    for step in steps:
        out.append(step["id"])
        if step.get("type") == "branch":
            out += step_ids(step.get("then", [])) + step_ids(step.get("else", []))
    return out


def journey_out(doc: Doc) -> Doc:
    spec = doc["spec"]
    return {
        "id": doc["_id"],
        "name": doc["name"],
        "status": doc["status"],
        "trigger": spec["trigger"],
        "steps": spec["steps"],
        "goal": spec.get("goal"),
        "reentry": spec.get("reentry", "never"),
        "createdBy": doc.get("created_by"),
        "createdAt": _iso(doc["created_ms"]),
        "updatedAt": _iso(doc["updated_ms"]),
    }
