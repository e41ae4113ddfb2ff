"""What one consumer group does with each entry type of its stream: the one shape of
every worker's handler table.

    INGEST_GROUP = Registry(
        stream=INGEST,
        group="ingest",
        routes=(on(CustomersUpserted, upsert_customers), on(OrdersRecorded, record_orders)),
        ignored=(),
    )

A handler is ``handler(events, deps)``: a list of parsed events of its type and the
worker's dependencies. ``on`` ties the two, so mypy checks that the handler takes the
event model it is registered for. ``ignored`` lists, visibly, the types on the stream
the group needs nothing from; a type neither handled nor ignored would be dead-lettered
("no handler"), which ``tests/common/test_handler_registry.py`` rules out for every
group of every worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from libs.common.events.base import EVENT_TYPES, Event
from libs.common.streams.consumer import Handler

E = TypeVar("E", bound=Event)
D = TypeVar("D")


@dataclass(frozen=True)
class Route(Generic[D]):
    """One entry type and the handler of its runs (build it with :func:`on`)."""

    event: type[Event]
    handler: Callable[[list[Any], D], None]


def on(event: type[E], handler: Callable[[list[E], D], None]) -> Route[D]:
    """``event`` entries go to ``handler``; typed so the handler must accept them."""
    return Route(event, handler)


def _ignore(events: list[Event]) -> None:
    """Entries the group needs nothing from: acknowledged, nothing else."""


@dataclass(frozen=True)
class Registry(Generic[D]):
    """The handler table of one consumer group on one stream."""

    stream: str
    group: str
    routes: Sequence[Route[D]]
    ignored: Sequence[type[Event]] = ()

    def __post_init__(self) -> None:
        declared = [r.event for r in self.routes] + list(self.ignored)
        doubled = {t.TYPE for t in declared if declared.count(t) > 1}
        if doubled:
            raise ValueError(f"{self.group}: declared more than once: {sorted(doubled)}")
        foreign = {t.TYPE for t in declared if self.stream != t.STREAM}
        if foreign:
            raise ValueError(f"{self.group}: not on stream {self.stream}: {sorted(foreign)}")

    @property
    def handled(self) -> frozenset[type[Event]]:
        return frozenset(r.event for r in self.routes)

    def undeclared(self) -> list[str]:
        """Types on the stream this group neither handles nor ignores (should be none)."""
        known = self.handled | set(self.ignored)
        return sorted(
            t.TYPE for t in EVENT_TYPES.values() if self.stream == t.STREAM and t not in known
        )

    def bind(self, deps: D) -> dict[type[Event], Handler]:
        """The consumer's table. One bound callable per handler function: types that
        share a function share its runs (StreamConsumer), and so do ignored types."""
        bound: dict[Callable[[list[Any], D], None], Handler] = {}
        table: dict[type[Event], Handler] = {}
        for route in self.routes:
            if route.handler not in bound:
                bound[route.handler] = _bind(route.handler, deps)
            table[route.event] = bound[route.handler]
        for event in self.ignored:
            table[event] = _ignore
        return table


def _bind(handler: Callable[[list[Any], D], None], deps: D) -> Handler:
    def run(events: list[Any]) -> None:
        handler(events, deps)

    run.__name__ = getattr(handler, "__name__", "handler")
    return run
