"""A journey's steps as a program: where a customer goes next, and what happens there.

The indented step tree is flattened into nodes that each know the step that follows
them (after the last step of a branch arm, the step after the branch; after the last
step of all, the end). ``run`` moves one customer from a position as far as it can
go now: a branch is decided, a send is emitted, and it stops at a wait (with the
instant it is due), at an exit, or at the end. Pure: the runner supplies what it
needs to know about the customer and persists the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from libs.common.sendwindow import next_local_time
from services.campaign.journeys.definition import (
    BranchStep,
    ExitStep,
    SendStep,
    WaitStep,
)

AnyStep = WaitStep | SendStep | ExitStep | BranchStep
END = ""


@dataclass(frozen=True)
class Node:
    step: AnyStep
    next: str  # the step after this one, END for the end of the journey
    then_first: str = END  # branches: the first step of each arm (or ``next``)
    else_first: str = END


@dataclass(frozen=True)
class Facts:
    """What ``run`` may ask about the customer at this moment."""

    now: datetime
    zone: tzinfo
    matches: Callable[[dict[str, Any]], bool]  # customer rules, evaluated now
    ordered_since_entry: bool


@dataclass
class Outcome:
    state: Literal["waiting", "exited", "completed"]
    position: str  # the wait step, the exit step, or END
    due: datetime | None = None
    sends: list[SendStep] = field(default_factory=list)
    path: list[str] = field(default_factory=list)  # step ids passed through, in order


class Program:
    def __init__(self, steps: list[Any]) -> None:
        self.nodes: dict[str, Node] = {}
        self.first = self._link(steps, END)

    def _link(self, steps: list[Any], after: str) -> str:
        following = after
        for step in reversed(steps):
            if isinstance(step, BranchStep):
                then_first = self._link(step.then, following)
                else_first = self._link(step.otherwise, following)
                self.nodes[step.id] = Node(step, following, then_first, else_first)
            else:
                self.nodes[step.id] = Node(step, following)
            following = step.id
        return following

    def step(self, step_id: str) -> AnyStep:
        return self.nodes[step_id].step

    def enter(self, facts: Facts) -> Outcome:
        """A customer enters: run from the first step."""
        return self._run(self.first, facts)

    def resume(self, wait_id: str, facts: Facts) -> Outcome:
        """A wait came due: go on from the step after it."""
        node = self.nodes[wait_id]
        if not isinstance(node.step, WaitStep):
            raise ValueError(f"step {wait_id!r} is not a wait")
        return self._run(node.next, facts)

    def _run(self, position: str, facts: Facts) -> Outcome:
        sends: list[SendStep] = []
        path: list[str] = []
        for _ in range(len(self.nodes) + 1):
            if position == END:
                return Outcome("completed", END, sends=sends, path=path)
            node = self.nodes[position]
            path.append(position)
            step = node.step
            if isinstance(step, WaitStep):
                return Outcome("waiting", position, due_at(step, facts), sends, path)
            if isinstance(step, ExitStep):
                return Outcome("exited", position, sends=sends, path=path)
            if isinstance(step, SendStep):
                sends.append(step)
                position = node.next
            else:
                position = node.then_first if _branch_holds(step, facts) else node.else_first
        raise AssertionError("a journey program has no cycles")


def due_at(step: WaitStep, facts: Facts) -> datetime:
    if step.seconds is not None:
        return facts.now + timedelta(seconds=step.seconds)
    assert step.until is not None
    return next_local_time(facts.now, step.until, facts.zone)


def _branch_holds(step: BranchStep, facts: Facts) -> bool:
    if step.ordered_since_entry:
        return facts.ordered_since_entry
    return facts.matches(step.rules or {})
