"""Stream entry envelope: fields ``type`` + ``data`` (JSON) + ``trace``.

Every entry type is a pydantic model subclassing :class:`Event` with a versioned
``TYPE``; subclasses register themselves so a consumer can parse any entry by its type.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, PrivateAttr

from libs.common.errors import PermanentError

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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        type_name = cls.__dict__.get("TYPE")
        if type_name:
            if type_name in EVENT_TYPES and EVENT_TYPES[type_name] is not cls:
                raise RuntimeError(f"duplicate event type {type_name}")
            EVENT_TYPES[type_name] = cls

    @property
    def entry_id(self) -> str | None:
        """The stream entry id this event was read from (None before it is published)."""
        return self._entry_id

    @property
    def trace_id(self) -> str | None:
        return self._trace_id

    @property
    def deliveries(self) -> int:
        """How many times the entry has been delivered to this group (1 on first read)."""
        return self._deliveries


def encode(event: Event, trace_id: str | None = None) -> dict[str, bytes]:
    """Fields of one stream entry; readable with ``redis-cli XRANGE``."""
    fields = {
        "type": event.TYPE.encode(),
        "data": orjson.dumps(event.model_dump(mode="json")),
    }
    if trace_id:
        fields["trace"] = trace_id.encode()
    return fields


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value


def decode(entry_id: str, fields: dict[Any, Any]) -> Event:
    """Parse one entry into its event model; raise PermanentError when it cannot be."""
    norm = {_text(k): v for k, v in fields.items()}
    type_name = _text(norm.get("type"))
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
    event._trace_id = _text(norm.get("trace"))
    return event
