"""Scrubbing one person out of documents whose shape the caller does not spell out. Pure.

Read models that keep logs of records (the AI service's) hold a customer inside lists
of other customers' records and in parallel lists. :func:`scrub` returns a document
without the person: a record (a dict) whose ``id``/``_id``/``customer_id`` is theirs is
dropped; their id as a text, or as a ``:``-separated part of one, becomes an anonymous
id (so parallel lists keep their alignment and counts stay right); a text equal to
their name, email or phone becomes empty. :data:`UNCHANGED` says there was nothing to change.

:func:`erase_and_confirm` is every service's handler of ``customer.erasure.requested.v1``
around its own ``erase``: each request erased, then confirmed with what changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from libs.common.events import ErasureConfirmed, ErasureRequested
from libs.common.events.base import Event
from libs.common.logging import get_logger

log = get_logger(__name__)

DROP = object()
UNCHANGED = object()
ID_KEYS = ("id", "_id", "customer_id", "customerId")


def anonymous_id(customer_id: str) -> str:
    return "erased-" + hashlib.sha256(f"customer:{customer_id}".encode()).hexdigest()[:24]


class Scrubber:
    def __init__(self, customer_id: str, personal: list[str]) -> None:
        self.customer_id = customer_id
        self.anonymous = anonymous_id(customer_id)
        self.personal = {p.lower() for p in personal if p}

    def mentions(self, value: Any) -> bool:
        return self._scrub(value) is not UNCHANGED

    def scrub(self, doc: dict[str, Any]) -> Any:
        """The document without the person, DROP (it is theirs) or UNCHANGED."""
        return self._scrub(doc)

    def _text(self, value: str) -> str:
        """The id as the whole text or as one ``:``-separated part (message ids are
        ``campaign:customer``), never inside another id ("c7" in "c70")."""
        if value == self.customer_id:
            return self.anonymous
        if ":" in value:
            parts = value.split(":")
            return ":".join(self.anonymous if p == self.customer_id else p for p in parts)
        return value

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            if value.lower() in self.personal:
                return ""
            new = self._text(value)
            return new if new != value else UNCHANGED
        if isinstance(value, dict):
            if any(value.get(k) == self.customer_id for k in ID_KEYS):
                return DROP
            changed, out = False, {}
            for key, item in value.items():
                new_key = self._text(key) if isinstance(key, str) else key
                new = self._scrub(item)
                if new is DROP:
                    changed = True
                    continue
                changed = changed or new is not UNCHANGED or new_key != key
                out[new_key] = item if new is UNCHANGED else new
            return out if changed else UNCHANGED
        if isinstance(value, list):
            changed, items = False, []
            for item in value:
                new = self._scrub(item)
                if new is DROP:
                    changed = True
                    continue
                changed = changed or new is not UNCHANGED
                items.append(item if new is UNCHANGED else new)
            return items if changed else UNCHANGED
        return UNCHANGED


def erase_and_confirm(
    events: Iterable[ErasureRequested],
    service: str,
    erase: Callable[[str], dict[str, int]],
    publish: Callable[[Sequence[Event]], object],
) -> None:
    """Erase each requested person (``erase(customer_id)`` -> what changed, per
    collection; idempotent) and confirm it on the ``consent`` stream."""
    for event in events:
        removed = erase(event.customer_id)
        log.info("erasure.done", service=service, removed=removed)
        publish(
            [
                ErasureConfirmed(
                    customer_id=event.customer_id,
                    service=service,
                    removed=removed,
                    at=datetime.now(UTC),
                )
            ]
        )
