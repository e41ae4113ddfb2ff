"""What was handed to the vendor, by message: the check a receipt must pass.

    delivery:sent:<campaign id>   customer id -> vendor message id ("-" while the
                                  vendor call is out)

Written by the one place that calls the vendor (services.delivery.dispatch.send_batch):
"-" before the call, the vendor's ids after it, the "-" taken back when the call
failed. The webhook accepts a receipt only when its message's entry holds the
receipt's vendor message id; a receipt whose message is still "-" (the vendor's answer
not recorded yet) makes the webhook ask for the batch again later.

Redis, not the ``communications`` rows: those are written by the receipt worker from
the same stream the webhook feeds, so a legitimate receipt may come before its row.
About 60 bytes a message while the key lives (``TTL_S`` after its last write, an hour
once the campaign completed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import redis
import redis.asyncio
from redis.typing import EncodableT

from libs.common.replies import text_or_none

TTL_S = 3 * 24 * 3600
ENDED_TTL_S = 3600  # after the campaign completed: only late duplicates come then
PENDING = "-"

# KEYS: ledger. ARGV: customer ids. Take back the entries still pending.
FORGET_PENDING = """
local n = 0
for i = 1, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == '-' then
    redis.call('HDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
"""

# Per receipt: accepted, or the reason it is refused.
OK = "ok"
NOT_SENT = "not_sent"
VENDOR_ID_MISMATCH = "vendor_id_mismatch"
NOT_RECORDED_YET = "not_recorded_yet"


def _key(campaign_id: str) -> str:
    return f"delivery:sent:{campaign_id}"


class SentLedger:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._forget = client.register_script(FORGET_PENDING)

    def handing(self, campaign_id: str, customer_ids: Sequence[str]) -> None:
        """Before the vendor call: the messages may be accepted from now on (an entry
        holding a vendor id already, from an earlier run, keeps it)."""
        pipe = self.client.pipeline(transaction=False)
        for customer_id in customer_ids:
            pipe.hsetnx(_key(campaign_id), customer_id, PENDING)
        pipe.expire(_key(campaign_id), TTL_S)
        pipe.execute()

    def handed(self, campaign_id: str, customer_ids: Sequence[str]) -> set[str]:
        """The customers whose message was handed to the vendor already (or is out)."""
        if not customer_ids:
            return set()
        found = self.client.hmget(_key(campaign_id), list(customer_ids))
        return {c for c, v in zip(customer_ids, found, strict=True) if v is not None}

    def record(self, campaign_id: str, vendor_ids: Mapping[str, str]) -> None:
        """After the vendor's answer: customer id -> vendor message id."""
        if vendor_ids:
            pipe = self.client.pipeline(transaction=False)
            mapping: dict[EncodableT, EncodableT] = {c: v for c, v in vendor_ids.items()}
            pipe.hset(_key(campaign_id), mapping=mapping)
            pipe.expire(_key(campaign_id), TTL_S)
            pipe.execute()

    def ended(self, campaign_id: str) -> None:
        """The campaign completed: every message is final, let the entries go soon."""
        self.client.expire(_key(campaign_id), ENDED_TTL_S)

    def failed(self, campaign_id: str, customer_ids: Sequence[str]) -> None:
        """The vendor call failed: nothing of it can have a receipt."""
        if customer_ids:
            self._forget(keys=[_key(campaign_id)], args=list(customer_ids))


@dataclass(frozen=True)
class Claim:
    """What a receipt says was sent: its message (campaign, customer) and vendor id."""

    campaign_id: str
    customer_id: str
    vendor_message_id: str


async def check(client: redis.asyncio.Redis, claims: Sequence[Claim]) -> list[str]:
    """One verdict per claim (OK or a refusal reason), one round trip in all."""
    pipe = client.pipeline(transaction=False)
    for claim in claims:
        pipe.hget(_key(claim.campaign_id), claim.customer_id)
    found = [text_or_none(v) for v in await pipe.execute()]
    verdicts = []
    for claim, value in zip(claims, found, strict=True):
        if value is None:
            verdicts.append(NOT_SENT)
        elif value == PENDING:
            verdicts.append(NOT_RECORDED_YET)
        elif value != claim.vendor_message_id:
            verdicts.append(VENDOR_ID_MISMATCH)
        else:
            verdicts.append(OK)
    return verdicts
