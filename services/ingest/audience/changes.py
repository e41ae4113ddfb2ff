"""``ingest.changes``: the ingest service's own notice of the customers it wrote.

After each bulk write the worker appends the documents it wrote (and those it found
already current, so a redelivery announces them again), projected to what the read model
keeps plus ``_id`` and ``version``: ``{"docs": orjson [{...}, ...]}``, up to
``WRITE_SLICE`` documents per entry. Dates travel as BSON stores them, integer epoch
milliseconds, and come back as the datetimes a database read gives; any other value
(a legacy date stored as a string) travels as it is. So the API process applies the
notices without reading the database again, and its model equals a fresh load.

Two workers may announce the same customer in the opposite order to their writes; the
reader keeps the document with the highest ``version`` (an integer, +1 per write).

The same stream carries ``{"caps": orjson {"channel", "customers": [[id, until_ms]]}}``
after the ``pacing`` group stored customers now at their frequency cap
(services.ingest.pacing_handlers): the preview counts them, in the order of every
other change, and read-your-writes covers them too.

The stream is private to the ingest service (no other service reads it) and capped; a
reader that finds entries trimmed before it could read them reloads everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import redis

from libs.common.clock import epoch_ms
from services.ingest.audience.columns import DATE_PATHS, PROJECTION

CHANGES_STREAM = "ingest.changes"
FIELDS = ("_id", *PROJECTION, "erased")  # the projection holds ``version``
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Doc = dict[str, Any]


def project(doc: Doc) -> Doc:
    out = {key: doc[key] for key in FIELDS if key in doc}
    for path in DATE_PATHS:
        if isinstance(out.get(path), datetime):
            out[path] = epoch_ms(out[path])
    return out


def notify_changed(client: redis.Redis, docs: Sequence[Doc], maxlen: int, slice_: int) -> None:
    """One entry per ``slice_`` documents, appended in one round trip."""
    if not docs:
        return
    pipe = client.pipeline(transaction=False)
    for start in range(0, len(docs), slice_):
        payload = orjson.dumps([project(d) for d in docs[start : start + slice_]])
        pipe.xadd(CHANGES_STREAM, {"docs": payload}, maxlen=maxlen, approximate=True)
    pipe.execute()


def notify_caps(
    client: redis.Redis, channel: str, capped: Sequence[tuple[str, int]], maxlen: int
) -> None:
    if capped:
        payload = orjson.dumps({"channel": channel, "customers": list(capped)})
        client.xadd(CHANGES_STREAM, {"caps": payload}, maxlen=maxlen, approximate=True)


def parse_caps(fields: dict[bytes, bytes]) -> tuple[str, list[tuple[str, int]]] | None:
    raw = fields.get(b"caps")
    if not raw:
        return None
    body = orjson.loads(raw)
    return str(body["channel"]), [(str(c), int(u)) for c, u in body["customers"]]


def parse_docs(fields: dict[bytes, bytes]) -> list[Doc]:
    raw = fields.get(b"docs")
    docs: list[Doc] = orjson.loads(raw) if raw else []
    for doc in docs:
        for path in DATE_PATHS:
            value = doc.get(path)
            if isinstance(value, int):
                doc[path] = _EPOCH + timedelta(milliseconds=value)
    return docs
