"""The live side of campaign controls, in Redis: each campaign's state as the send
paths see it before every vendor batch, and the messages handed to the vendor now.

``campaign_controls`` in the database stays the durable read model; these keys are what
makes a pause take effect between two vendor batches instead of between two reads of
the send stream (a read is up to 20 chunks, ten seconds and more of sending):

    delivery:state:<campaign id>      "paused" | "cancelled" | "active"
    delivery:inflight:<campaign id>   messages in vendor calls now (expires: a worker
                                      killed mid-call leaves a count for INFLIGHT_TTL_S)

A send path first counts its batch in flight, then reads the state: the control worker
writes the state before anything else, so either the send path sees the pause, or the
batch is counted and shows in ``in_flight`` (the "pausing… N in flight" of the web app).
"""

from __future__ import annotations

import redis
import redis.asyncio

STATE_TTL_S = 30 * 24 * 3600
INFLIGHT_TTL_S = 120

# KEYS: state. ARGV: state, ttl. A cancelled campaign stays cancelled.
SET_STATE = """
if redis.call('GET', KEYS[1]) == 'cancelled' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


def _state_key(campaign_id: str) -> str:
    return f"delivery:state:{campaign_id}"


def _inflight_key(campaign_id: str) -> str:
    return f"delivery:inflight:{campaign_id}"


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


class LiveControls:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._set_state = client.register_script(SET_STATE)

    def set_state(self, campaign_id: str, state: str) -> bool:
        """False when the campaign is cancelled already (it stays so)."""
        return bool(self._set_state(keys=[_state_key(campaign_id)], args=[state, STATE_TTL_S]))

    def state(self, campaign_id: str) -> str:
        """The campaign's state; "" when no control ever reached delivery."""
        return _text(self.client.get(_state_key(campaign_id)))

    def begin(self, campaign_id: str, count: int) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.incrby(_inflight_key(campaign_id), count)
        pipe.expire(_inflight_key(campaign_id), INFLIGHT_TTL_S)
        pipe.execute()

    def end(self, campaign_id: str, count: int) -> None:
        self.client.decrby(_inflight_key(campaign_id), count)

    def in_flight(self, campaign_id: str) -> int:
        return max(int(_text(self.client.get(_inflight_key(campaign_id))) or 0), 0)


async def in_flight_now(client: redis.asyncio.Redis, campaign_id: str) -> int:
    """What ``LiveControls.in_flight`` says, for the API's event loop."""
    return max(int(_text(await client.get(_inflight_key(campaign_id))) or 0), 0)
