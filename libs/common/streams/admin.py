"""Stream administration: group creation, safe trimming, overview, DLQ replay."""

from __future__ import annotations

from typing import Any

import redis

from libs.common.redis_client import node_of
from libs.common.replies import text
from libs.common.streams.names import SINGLE, StreamLayout, dlq_name


def ensure_group(client: redis.Redis, stream: str, group: str) -> None:
    """XGROUP CREATE <stream> <group> 0 MKSTREAM; BUSYGROUP means it exists already."""
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _id_tuple(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def safe_trim_point(client: redis.Redis, stream: str) -> str | None:
    """The oldest id any group still needs: below it, every group has acked everything."""
    try:
        groups = client.xinfo_groups(stream)
    except redis.ResponseError:
        return None
    if not groups:
        return None
    needed: list[str] = []
    for info in groups:
        last = text(info["last-delivered-id"])
        if int(info["pending"]):
            summary = client.xpending(stream, text(info["name"]))
            if summary and summary.get("min"):
                last = min(last, text(summary["min"]), key=_id_tuple)
        needed.append(last)
    return min(needed, key=_id_tuple)


def safe_trim(client: redis.Redis, stream: str) -> int:
    """XTRIM MINID ~ to what every group has acked: trimming never drops unacked work.

    Entries up to and including a group's last-delivered id that are not pending have
    been acked by it, so everything strictly older than the oldest needed id can go.
    """
    point = safe_trim_point(client, stream)
    if point is None or point == "0-0":
        return 0
    return int(client.xtrim(stream, minid=point, approximate=True))


def _pending_age_ms(client: redis.Redis, stream: str, group: str) -> int | None:
    rows = client.xpending_range(stream, group, min="-", max="+", count=1)
    if not rows:
        return None
    return int(rows[0]["time_since_delivered"])


def unread_entries(
    client: redis.Redis, stream: str, group: str | None = None, *, layout: StreamLayout = SINGLE
) -> int | None:
    """Summed over the partitions of ``stream`` (``layout``): see ``_unread``."""
    counts = [_unread(client, name, group) for name in layout.partitions(stream)]
    known = [c for c in counts if c is not None]
    return sum(known) if known else None


def _unread(client: redis.Redis, stream: str, group: str | None = None) -> int | None:
    """Entries of ``stream`` not yet read by ``group`` (by the furthest-behind group when
    None). None while there is no such group (nothing reads the stream yet, so there is
    nothing to wait for)."""
    try:
        groups = client.xinfo_groups(stream)
    except redis.ResponseError:  # no stream yet
        return None
    chosen = [g for g in groups if group is None or text(g["name"]) == group]
    if not chosen:
        return None
    return max(_group_unread(client, stream, info) for info in chosen)


def _group_unread(client: redis.Redis, stream: str, info: dict[Any, Any]) -> int:
    """The group's ``lag``, but 0 when no entry follows its last-delivered id: Redis's
    lag can go on counting entries that are not there (its ``entries-read`` is restored
    or estimated after a restart and after deletions; seen: 267 with everything read,
    which held the send worker's brake shut). Where Redis cannot tell the lag at all,
    the stream's length stands in for it."""
    last = text(info["last-delivered-id"])
    if not client.xrange(stream, min=f"({last}", count=1):
        return 0
    lag = info.get("lag")
    return int(lag) if lag is not None else int(client.xlen(stream))


def entries_in_flight(
    client: redis.Redis, stream: str, group: str, *, layout: StreamLayout = SINGLE
) -> int:
    """Entries ``group`` has read but not acknowledged, plus one for each partition
    holding an entry it has not read yet: 0 when the group has nothing left to do.
    Redis's ``lag`` is not used: after deletions it goes on counting entries that are
    gone (a lag of 170 with every entry read), so "unread" is "the newest entry is
    after the group's last delivered id"."""
    total = 0
    for name in layout.partitions(stream):
        try:
            groups = client.xinfo_groups(name)
        except redis.ResponseError:  # no stream yet
            continue
        newest = client.xrevrange(name, count=1)
        for info in groups:
            if text(info["name"]) != group:
                continue
            total += int(info.get("pending") or 0)
            delivered = _id_tuple(text(info["last-delivered-id"]))
            if newest and _id_tuple(text(newest[0][0])) > delivered:
                total += 1
    return total


def stream_overview(client: redis.Redis, streams: tuple[str, ...]) -> list[dict[str, Any]]:
    """XINFO of every stream and group, for the admin page and alerts."""
    out: list[dict[str, Any]] = []
    for stream in streams:
        try:
            info = client.xinfo_stream(stream)
            length = int(info["length"])
            groups_info = client.xinfo_groups(stream)
        except redis.ResponseError:
            length, groups_info = 0, []
        groups = []
        for g in groups_info:
            name = text(g["name"])
            consumers = client.xinfo_consumers(stream, name)
            groups.append(
                {
                    "name": name,
                    "pending": int(g["pending"]),
                    "lag": None if g.get("lag") is None else int(g["lag"]),
                    "lastDeliveredId": text(g["last-delivered-id"]),
                    "oldestPendingAgeMs": (
                        _pending_age_ms(client, stream, name) if int(g["pending"]) else None
                    ),
                    "consumers": [
                        {
                            "name": text(c["name"]),
                            "pending": int(c["pending"]),
                            "idleMs": int(c["idle"]),
                        }
                        for c in consumers
                    ],
                }
            )
        out.append(
            {
                "stream": stream,
                "length": length,
                "groups": groups,
                "dlq": {"stream": dlq_name(stream), "length": int(client.xlen(dlq_name(stream)))},
            }
        )
    return out


def partitioned_overview(
    client: redis.Redis, streams: tuple[str, ...], layout: StreamLayout = SINGLE
) -> list[dict[str, Any]]:
    """One row per logical stream, its figures summed over its partitions, and under
    ``partitions`` each partition's own row with the server that holds it."""
    out: list[dict[str, Any]] = []
    for stream in streams:
        names = layout.partitions(stream)
        parts = stream_overview(client, tuple(names))
        for part in parts:
            part["node"] = node_of(client, part["stream"])
        row = _merged(stream, parts) if len(parts) > 1 else dict(parts[0], stream=stream)
        row["partitions"] = parts
        out.append(row)
    return out


def _merged(stream: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    groups: dict[str, dict[str, Any]] = {}
    for part in parts:
        for g in part["groups"]:
            into = groups.setdefault(
                g["name"],
                {
                    "name": g["name"],
                    "pending": 0,
                    "lag": 0,
                    "lastDeliveredId": "",
                    "oldestPendingAgeMs": None,
                    "consumers": {},
                },
            )
            into["pending"] += g["pending"]
            into["lag"] = (
                None if into["lag"] is None or g["lag"] is None else into["lag"] + g["lag"]
            )
            ages = [
                a for a in (into["oldestPendingAgeMs"], g["oldestPendingAgeMs"]) if a is not None
            ]
            into["oldestPendingAgeMs"] = max(ages) if ages else None
            into["lastDeliveredId"] = max(
                into["lastDeliveredId"] or "0-0", g["lastDeliveredId"], key=_id_tuple
            )
            for c in g["consumers"]:
                seen = into["consumers"].setdefault(c["name"], dict(c, pending=0))
                seen["pending"] += c["pending"]
                seen["idleMs"] = min(seen["idleMs"], c["idleMs"])
    for g in groups.values():
        g["consumers"] = list(g["consumers"].values())
    return {
        "stream": stream,
        "length": sum(p["length"] for p in parts),
        "groups": list(groups.values()),
        "dlq": {
            "stream": dlq_name(stream),
            "length": sum(p["dlq"]["length"] for p in parts),
        },
    }


_ENVELOPE_FIELDS = (b"type", b"data", b"trace")


def replay_partitions(
    client: redis.Redis, stream: str, layout: StreamLayout = SINGLE, *, limit: int = 1000
) -> int:
    """``replay_dlq`` for every partition of a logical stream (each into its own)."""
    moved = 0
    for name in layout.partitions(stream):
        moved += replay_dlq(client, name, limit=limit - moved)
        if moved >= limit:
            break
    return moved


def replay_dlq(client: redis.Redis, stream: str, *, limit: int = 1000) -> int:
    """Move dead-lettered entries back onto their source stream (envelope only).

    ``stream`` is one Redis stream (a partition): it and its DLQ share a hash tag, so
    each move is one MULTI on one slot."""
    entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(  # type: ignore[assignment]
        dlq_name(stream), count=limit
    )
    moved = 0
    for entry_id, fields in entries:
        envelope: dict[Any, Any] = {k: v for k, v in fields.items() if k in _ENVELOPE_FIELDS}
        pipe = client.pipeline(transaction=True)
        if envelope:
            pipe.xadd(stream, envelope)
        pipe.xdel(dlq_name(stream), entry_id)
        pipe.execute()
        moved += 1
    return moved
