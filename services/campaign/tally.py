"""Per-message states and the counters they add up to, kept in Redis.

For each campaign two hashes hold everything the figures need:

    campaign:tally:{<campaign id>}:states   customer id -> rank of its message (1 sent, 2 final)
    campaign:tally:{<campaign id>}:counts   grouping key ``k`` (see ``stats``) -> messages

One Lua script moves a message to a higher rank and adjusts the counters in the same
atomic step, so the counters are always exactly what the states say: a redelivered entry
or a duplicate receipt finds the rank already reached and changes nothing, and there is
no crash window between a state and its counter. The campaign worker acknowledges an
entry only after the script ran; the script runs before the XACK on the same server, so
even a Redis restart from its append-only file keeps every acknowledged state.

This costs the database nothing per message (the states used to be one document per
message in ``campaign_messages``, two writes per message on the database server that
every service shares). Memory: about 80 bytes of Redis per message (1 M messages ≈
80 MB) while the campaign runs; the keys expire ``TTL_S`` after their last change and
``forget`` shortens that once the campaign completed (its counters are frozen then).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from libs.common.redis_client import is_cluster
from libs.common.replies import text
from services.campaign import stats

TTL_S = 14 * 24 * 3600
COMPLETED_TTL_S = 3600
SCRIPT_CHUNK = 1000  # messages per script call: keeps each call short for Redis
SCAN_COUNT = 1000

# KEYS: states, counts. ARGV: ttl, then (customer id, rank, k) per message.
# Only one rank is not final (sent, counted under "sent"), so an upgrade always moves
# a message out of "sent".
APPLY = """
local changed = 0
for i = 2, #ARGV, 3 do
  local field, rank, k = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local current = redis.call('HGET', KEYS[1], field)
  if not current then
    redis.call('HSET', KEYS[1], field, rank)
    redis.call('HINCRBY', KEYS[2], k, 1)
    changed = changed + 1
  elseif tonumber(current) < rank then
    redis.call('HSET', KEYS[1], field, rank)
    redis.call('HINCRBY', KEYS[2], 'sent', -1)
    redis.call('HINCRBY', KEYS[2], k, 1)
    changed = changed + 1
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return changed
"""

# KEYS: states. ARGV: customer id, its new (anonymous) id: the state moves, its rank kept.
RENAME = """
local rank = redis.call('HGET', KEYS[1], ARGV[1])
if not rank then return 0 end
local other = redis.call('HGET', KEYS[1], ARGV[2])
if (not other) or tonumber(other) < tonumber(rank) then
  redis.call('HSET', KEYS[1], ARGV[2], rank)
end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"""


@dataclass(frozen=True)
class MessageState:
    """One message reaching a status (from a stream entry)."""

    message_id: str
    campaign_id: str
    customer_id: str
    status: str
    at: datetime
    reason: str | None = None
    vendor_message_id: str | None = None

    @property
    def rank(self) -> int:
        return stats.RANKS[self.status]

    @property
    def key(self) -> str:
        return stats.message_key(self.status, self.at, self.reason)


def strongest(states: Iterable[MessageState]) -> list[MessageState]:
    """One state per message: the highest rank; among equals, the first seen wins."""
    best: dict[str, MessageState] = {}
    for state in states:
        current = best.get(state.message_id)
        if current is None or state.rank > current.rank:
            best[state.message_id] = state
    return list(best.values())


def _keys(campaign_id: str) -> tuple[str, str]:
    base = f"campaign:tally:{{{campaign_id}}}"
    return f"{base}:states", f"{base}:counts"


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Tally:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._apply = client.register_script(APPLY)
        self._rename = client.register_script(RENAME)

    def apply(self, states: Iterable[MessageState]) -> int:
        """Move each message to its state unless it reached that rank already; the
        counters follow in the same step. Returns how many messages changed."""
        by_campaign: dict[str, list[MessageState]] = {}
        for state in strongest(states):
            if state.rank == stats.SENT_RANK and state.key != "sent":
                raise ValueError(f"a non-final state must count as 'sent', not {state.key!r}")
            by_campaign.setdefault(state.campaign_id, []).append(state)
        # A cluster pipeline refuses EVALSHA: there each call is its own round trip
        # (keys of one campaign share a hash tag; a batch holds few campaigns).
        pipe = None if is_cluster(self.client) else self.client.pipeline(transaction=False)
        changed = 0
        for campaign_id, group in by_campaign.items():
            keys = _keys(campaign_id)
            for part in _chunks(group, SCRIPT_CHUNK):
                args: list[Any] = [TTL_S]
                for s in part:
                    args += [s.customer_id, s.rank, s.key]
                if pipe is None:
                    changed += int(self._apply(keys=keys, args=args))
                else:
                    self._apply(keys=keys, args=args, client=pipe)
        if pipe is not None and by_campaign:
            changed = sum(int(n) for n in pipe.execute())
        return changed

    def groups(self, campaign_id: str) -> list[dict[str, Any]]:
        """The non-zero counters of the campaign's counts hash, as
        ``[{"_id": k, "n": count}]`` (what ``stats.figures_from_groups`` folds)."""
        counts = self.client.hgetall(_keys(campaign_id)[1])
        return [{"_id": text(k), "n": int(n)} for k, n in counts.items() if int(n)]

    def mark_unknown(self, campaign_id: str, at: datetime) -> int:
        """Every message still only ``sent`` becomes ``unknown`` (completion timeout)."""
        states_key = _keys(campaign_id)[0]
        waiting = [
            text(field)
            for field, rank in self.client.hscan_iter(states_key, count=SCAN_COUNT)
            if int(rank) == stats.SENT_RANK
        ]
        return self.apply(
            MessageState(f"{campaign_id}:{c}", campaign_id, c, "unknown", at) for c in waiting
        )

    def forget(self, campaign_id: str) -> None:
        """The campaign completed and its counters are frozen: let the states go soon."""
        pipe = self.client.pipeline(transaction=False)
        for key in _keys(campaign_id):
            pipe.expire(key, COMPLETED_TTL_S)
        pipe.execute()

    def rename_customer(self, campaign_ids: Iterable[str], customer_id: str, new_id: str) -> int:
        """An erased person's states are kept under their anonymous id."""
        return sum(
            int(self._rename(keys=[_keys(c)[0]], args=[customer_id, new_id]))
            for c in dict.fromkeys(campaign_ids)
        )
