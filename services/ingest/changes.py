"""``ingest.changes``: the ingest service's own notice of which customers changed.

The worker appends the ids it wrote after each bulk write; the API process tails the
stream to keep its columnar read model current. The stream is private to the ingest
service (no other service reads it) and capped; a reader that finds entries trimmed
before it could read them reloads everything.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import redis

CHANGES_STREAM = "ingest.changes"


def notify_changed(client: redis.Redis, ids: Sequence[str], maxlen: int) -> None:
    if ids:
        client.xadd(
            CHANGES_STREAM, {"ids": orjson.dumps(list(ids))}, maxlen=maxlen, approximate=True
        )


def parse_ids(fields: dict[bytes, bytes]) -> list[str]:
    raw = fields.get(b"ids")
    return [str(i) for i in orjson.loads(raw)] if raw else []
