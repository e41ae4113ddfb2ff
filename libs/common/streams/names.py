"""Stream and consumer-group names: the one table every service agrees on.

A logical stream (``send``) is one Redis stream or N partitions of it. With one
partition on a single Redis the name is the logical name itself (``send``, DLQ
``send.dlq``), as before partitions existed. Otherwise partition ``i`` is named
``{send:i}`` and its DLQ ``{send:i}.dlq``: the braces are a Redis Cluster hash tag, so
a partition, its DLQ and its consumer error hash (``streamerr:{send:i}:<group>``) live
on one slot (the dead-letter MULTI stays on one node) while different partitions spread
over the shards. On a cluster the tagged names are used even with one partition.

``STREAM_PARTITIONS`` sets the counts: ``4`` (every stream), ``send=8,receipt=4``
(the rest 1) or ``4,ingest=2`` (a default, then exceptions).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

INGEST = "ingest"
SEGMENT = "segment"
SEND = "send"
RECEIPT = "receipt"
CAMPAIGN_EVENTS = "campaign_events"
CONSENT = "consent"
PACING = "pacing"

ALL_STREAMS: tuple[str, ...] = (
    INGEST,
    SEGMENT,
    SEND,
    RECEIPT,
    CAMPAIGN_EVENTS,
    CONSENT,
    PACING,
)

MAX_PARTITIONS = 256


def dlq_name(stream: str) -> str:
    return f"{stream}.dlq"


def partition_name(stream: str, index: int) -> str:
    """The hash-tagged name of partition ``index`` of a logical stream."""
    return f"{{{stream}:{index}}}"


def partition_of(key: str, count: int) -> int:
    """Which of ``count`` partitions carries ``key``: stable across processes and
    Python versions (crc32, not the salted ``hash``)."""
    if count <= 1:
        return 0
    return zlib.crc32(key.encode()) % count


def parse_partitions(spec: str) -> tuple[int, dict[str, int]]:
    """``"4"``, ``"send=8,receipt=4"`` or ``"4,ingest=2"`` -> (default, overrides)."""
    default = 1
    overrides: dict[str, int] = {}
    for raw in spec.split(","):
        part = raw.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        try:
            count = int(value if sep else name)
        except ValueError as exc:
            raise ValueError(f"STREAM_PARTITIONS: {part!r} is not a count") from exc
        if not 1 <= count <= MAX_PARTITIONS:
            raise ValueError(f"STREAM_PARTITIONS: {part!r} must be 1..{MAX_PARTITIONS}")
        if sep:
            overrides[name.strip()] = count
        else:
            default = count
    return default, overrides


@dataclass(frozen=True)
class StreamLayout:
    """How many partitions each logical stream has, and what they are called."""

    default: int = 1
    overrides: dict[str, int] = field(default_factory=dict)
    tagged: bool = False  # hash-tagged names even for one partition (Redis Cluster)

    @classmethod
    def from_spec(cls, spec: str, *, cluster: bool = False) -> StreamLayout:
        default, overrides = parse_partitions(spec)
        return cls(default=default, overrides=overrides, tagged=cluster)

    def count(self, stream: str) -> int:
        return self.overrides.get(stream, self.default)

    def partitions(self, stream: str) -> list[str]:
        """Every Redis stream that makes up ``stream``, in partition order."""
        count = self.count(stream)
        if count == 1 and not self.tagged:
            return [stream]
        return [partition_name(stream, i) for i in range(count)]

    def partition(self, stream: str, key: str) -> str:
        """The Redis stream that carries entries of ``key`` (per-entity order)."""
        return self.partitions(stream)[partition_of(key, self.count(stream))]

    def is_plain(self, stream: str) -> bool:
        return self.partitions(stream) == [stream]


SINGLE = StreamLayout()
