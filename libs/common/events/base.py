"""Stream entry envelope: fields ``type`` + ``data`` (JSON) + ``trace``.

Every entry type is a pydantic model subclassing :class:`Event` with a versioned
``TYPE``; subclasses register themselves so a consumer can parse any entry by its type.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, PrivateAttr

from libs.common.errors import PermanentError
from libs.common.replies import text_or_none

EVENT_TYPES: dict[str, type[Event]] = {}

E = TypeVar("E", bound="Event")


class Event(BaseModel):
    """One stream entry's payload. ``TYPE`` names it on the wire (``x.y.v1``)."""

    TYPE: ClassVar[str]
    STREAM: ClassVar[str]

    model_config = ConfigDict(extra="forbid", frozen=False)

    _entry_id: str | None = PrivateAttr(default=None)
    _trace_id: str | None = PrivateAttr(default=None)
    _deliveries: int = PrivateAttr(default=1)
    _source_stream: str | None = PrivateAttr(default=None)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        type_name = cls.__dict__.get("TYPE")
        if type_name:
            if type_name in EVENT_TYPES and EVENT_TYPES[type_name] is not cls:
                raise RuntimeError(f"duplicate event type {type_name}")
            EVENT_TYPES[type_name] = cls

    def partition_key(self) -> str:
        """The entity whose entries must stay in order (one partition); '' for any."""
        return str(getattr(self, "campaign_id", "") or "")

    def split_for_partitions(self, count: int) -> list[tuple[int, Event]]:
        """(partition index, event) pairs; chunked entries split their records by each
        record's own key, so every record lands on its entity's partition."""
        from libs.common.streams.names import partition_of  # the streams package imports us

        return [(partition_of(self.partition_key(), count), self)]

    @property
    def entry_id(self) -> str | None:
        """The stream entry id this event was read from (None before it is published)."""
        return self._entry_id

    @property
    def source_stream(self) -> str | None:
        """The Redis stream (partition) this event was read from."""
        return self._source_stream

    @property
    def trace_id(self) -> str | None:
        return self._trace_id

    @property
    def deliveries(self) -> int:
        """How many times the entry has been delivered to this group (1 on first read)."""
        return self._deliveries


def split_records(event: E, field_name: str, key: Any, count: int) -> list[tuple[int, Event]]:
    """Split the list ``field_name`` of ``event`` by ``key(record)`` over ``count``
    partitions: one event per partition that has records, in their original order."""
    from libs.common.streams.names import partition_of  # the streams package imports us

    if count <= 1:
        return [(0, event)]
    groups: dict[int, list[Any]] = {}
    for record in getattr(event, field_name):
        groups.setdefault(partition_of(key(record), count), []).append(record)
    return [
        (index, event.model_copy(update={field_name: records}))
        for index, records in sorted(groups.items())
    ]


def encode(event: Event, trace_id: str | None = None) -> dict[str, bytes]:
    """Fields of one stream entry; readable with ``redis-cli XRANGE``."""
    fields = {
        "type": event.TYPE.encode(),
        "data": orjson.dumps(event.model_dump(mode="json")),
    }
    if trace_id:
        fields["trace"] = trace_id.encode()
    return fields


def decode(entry_id: str, fields: dict[Any, Any]) -> Event:
    """Parse one entry into its event model; raise PermanentError when it cannot be."""
    norm = {text_or_none(k): v for k, v in fields.items()}
    type_name = text_or_none(norm.get("type"))
    data = norm.get("data")
    if type_name is None or data is None:
        raise PermanentError(f"entry {entry_id} has no type or data field")
    model = EVENT_TYPES.get(type_name)
    if model is None:
        raise PermanentError(f"unknown entry type {type_name!r}")
    try:
        event = model.model_validate_json(data)
    except ValueError as exc:
        raise PermanentError(f"invalid {type_name} payload: {exc}") from exc
    event._entry_id = entry_id
    event._trace_id = text_or_none(norm.get("trace"))
    return event
