"""What a journey is: a trigger, a list of steps, an optional goal, a re-entry policy.

The request body of ``POST /api/journeys``, validated in two passes: the shapes by
pydantic (a step's ``type`` picks its model; a branch holds two indented step lists),
then the meaning here (step ids unique across the whole tree, rules and templates
valid, at most ``MAX_STEPS`` steps nested at most ``MAX_DEPTH`` deep). Any problem is
a ``JourneyError`` naming its path, answered 422.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from libs.common.errors import ValidationFailed
from libs.common.rules import RuleError, parse_rules
from libs.common.templates import TemplateError, parse_template

MAX_STEPS = 50
MAX_DEPTH = 4
MAX_WAIT_S = 366 * 24 * 3600
STEP_ID = r"^[A-Za-z0-9_-]{1,40}$"
DATE_FIELDS = ("lastVisit", "lastOrderAt", "createdAt")


class JourneyError(ValidationFailed):
    code = "invalid_journey"


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CustomerCreated(_Shape):
    type: Literal["customer_created"]
    rules: dict[str, Any] | None = None


class OrderPlaced(_Shape):
    type: Literal["order_placed"]
    rules: dict[str, Any] | None = None  # on the customer, after the order counted
    min_amount: float | None = Field(None, alias="minAmount", ge=0)
    first_order: bool = Field(False, alias="firstOrder")


class SegmentEntered(_Shape):
    type: Literal["segment_entered"]
    rules: dict[str, Any]


class DateAttribute(_Shape):
    """``field`` + ``offsetDays`` (``lastVisit`` + 30 days), or every year (a birthday)."""

    type: Literal["date_attribute"]
    field: Literal["lastVisit", "lastOrderAt", "createdAt"]
    offset_days: int = Field(0, alias="offsetDays", ge=0, le=3650)
    yearly: bool = False
    at: time = time(9, 0)  # local time of day in the customer's zone


Trigger = Annotated[
    CustomerCreated | OrderPlaced | SegmentEntered | DateAttribute, Field(discriminator="type")
]


class WaitStep(_Shape):
    id: str = Field(pattern=STEP_ID)
    type: Literal["wait"]
    seconds: int | None = Field(None, ge=1, le=MAX_WAIT_S)
    until: time | None = None  # local time of day in the customer's zone

    @field_validator("until", mode="before")
    @classmethod
    def _hh_mm(cls, value: Any) -> Any:
        if isinstance(value, str) and len(value) == 5:
            return f"{value}:00"
        return value


class SendStep(_Shape):
    id: str = Field(pattern=STEP_ID)
    type: Literal["send"]
    channel: Literal["sms", "email"] = "sms"
    message: str = Field(min_length=1, max_length=2000)


class ExitStep(_Shape):
    id: str = Field(pattern=STEP_ID)
    type: Literal["exit"]


class BranchStep(_Shape):
    """``rules`` on the customer now, or ``orderedSinceEntry``; then ``then`` or ``else``."""

    id: str = Field(pattern=STEP_ID)
    type: Literal["branch"]
    rules: dict[str, Any] | None = None
    ordered_since_entry: bool = Field(False, alias="orderedSinceEntry")
    then: list[Step] = Field(default_factory=list)
    otherwise: list[Step] = Field(default_factory=list, alias="else")


Step = Annotated[WaitStep | SendStep | ExitStep | BranchStep, Field(discriminator="type")]
BranchStep.model_rebuild()


class Goal(_Shape):
    event: Literal["order_placed"]
    min_amount: float | None = Field(None, alias="minAmount", ge=0)


class JourneySpec(_Shape):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: str = Field(min_length=1, max_length=200)
    trigger: Trigger
    steps: list[Step] = Field(min_length=1)
    goal: Goal | None = None
    reentry: Literal["never", "after_exit"] = "never"


def parse_journey(raw: Any) -> JourneySpec:
    """Shape and meaning, or a JourneyError listing every problem with its path."""
    try:
        spec = JourneySpec.model_validate(raw)
    except ValidationError as exc:
        shapes = [
            {"path": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors()[:50]
        ]
        raise JourneyError(f"invalid journey: {_first(shapes)}", shapes) from None
    problems: list[dict[str, str]] = []
    if not spec.name.strip():
        problems.append({"path": "name", "message": "name must not be blank"})
    _check_rules(getattr(spec.trigger, "rules", None), "trigger.rules", problems)
    _check_steps(spec.steps, "steps", 1, set(), problems)
    if problems:
        raise JourneyError(f"invalid journey: {_first(problems)}", problems)
    return spec


def _first(problems: list[dict[str, str]]) -> str:
    return f"{problems[0]['path']}: {problems[0]['message']}" if problems else "invalid"


def _check_rules(rules: Any, path: str, problems: list[dict[str, str]]) -> None:
    if rules is None:
        return
    try:
        parse_rules(rules)
    except RuleError as exc:
        problems.append({"path": path, "message": exc.message})


def _check_steps(
    steps: list[Any], path: str, depth: int, seen: set[str], problems: list[dict[str, str]]
) -> None:
    if depth > MAX_DEPTH:
        problems.append({"path": path, "message": f"branches nest deeper than {MAX_DEPTH}"})
        return
    for index, step in enumerate(steps):
        here = f"{path}[{index}]"
        if step.id in seen:
            problems.append({"path": f"{here}.id", "message": f"step id {step.id!r} repeats"})
        seen.add(step.id)
        if len(seen) > MAX_STEPS:
            problems.append({"path": here, "message": f"more than {MAX_STEPS} steps"})
            return
        if isinstance(step, WaitStep) and (step.seconds is None) == (step.until is None):
            problems.append({"path": here, "message": "a wait needs seconds or until"})
        elif isinstance(step, SendStep):
            try:
                parse_template(step.message)
            except TemplateError as exc:
                problems.append({"path": f"{here}.message", "message": exc.message})
        elif isinstance(step, BranchStep):
            if (step.rules is None) == (not step.ordered_since_entry):
                problems.append(
                    {"path": here, "message": "a branch needs rules or orderedSinceEntry"}
                )
            _check_rules(step.rules, f"{here}.rules", problems)
            _check_steps(step.then, f"{here}.then", depth + 1, seen, problems)
            _check_steps(step.otherwise, f"{here}.else", depth + 1, seen, problems)
