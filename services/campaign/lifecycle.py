"""A campaign's states and the transitions people may ask for. Pure: no I/O.

    scheduled ──(due)──> launching ──(audience resolved)──> running ──> completed
        │                   │  ^                               │  ^
        │                   v  │ resume                        v  │ resume
        └──── cancel ───> paused (by a person, or automatically by delivery)
    cancel from scheduled | launching | running | paused -> cancelled

completed and cancelled are final: every request on them is a 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["scheduled", "launching", "running", "paused", "cancelled", "completed"]
STATUSES: tuple[str, ...] = (
    "scheduled",
    "launching",
    "running",
    "paused",
    "cancelled",
    "completed",
)
FINAL: tuple[str, ...] = ("cancelled", "completed")
ACTIVE: tuple[str, ...] = ("launching", "running", "paused")

Action = Literal["pause", "resume", "cancel"]


@dataclass(frozen=True)
class Transition:
    action: Action
    allowed_from: tuple[str, ...]


TRANSITIONS: dict[str, Transition] = {
    "pause": Transition("pause", ("launching", "running")),
    "resume": Transition("resume", ("paused",)),
    "cancel": Transition("cancel", ("scheduled", "launching", "running", "paused")),
}


def resumed_status(audience_known: bool) -> str:
    """Where resume takes a paused campaign: back to where it was, ``running`` once its
    audience is resolved, else ``launching`` (campaigns.py applies it conditionally)."""
    return "running" if audience_known else "launching"


def refusal(action: str, status: str) -> str:
    allowed = TRANSITIONS[action].allowed_from
    return f"cannot {action} a {status} campaign; {action} applies to {', '.join(allowed)}"
