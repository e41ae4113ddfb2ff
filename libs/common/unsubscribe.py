"""Unsubscribe tokens: who, on which channel, from which campaign, signed.

A token names a customer, a channel and the campaign (or journey) whose message
carried it, signed with HMAC-SHA256 in itsdangerous's URL-safe format, so it cannot be
guessed, forged or edited, and ids inside it are not sequential counters. Tokens
signed before 2026-12-05 carry HMAC-SHA1 (itsdangerous's default then) and still
verify, until their key leaves the ring. Keys rotate: tokens are
signed with the newest key of the ring and verified with every key still in it; a
token whose key left the ring is refused like a forged one. A salt keeps these
signatures apart from anything else signed with the same secrets.

Tokens do not expire by age: a link in a message from last year must still work
(people unsubscribe from old mail); rotating the key out is what retires them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadSignature, URLSafeSerializer

from libs.common.errors import ValidationFailed

Channel = Literal["email", "sms"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")
SALT = "mini-crm.unsubscribe.v1"
DIGEST = hashlib.sha256


class InvalidToken(ValidationFailed):
    code = "invalid_token"


@dataclass(frozen=True)
class Unsubscribe:
    customer_id: str
    channel: Channel
    campaign_id: str


class TokenSigner:
    def __init__(self, keys: Sequence[str]) -> None:
        """``keys`` oldest first; the last one signs."""
        if not keys or not all(keys):
            raise ValueError("an unsubscribe signer needs at least one non-empty key")
        self._serializer = URLSafeSerializer(
            list(keys),
            salt=SALT,
            signer_kwargs={"digest_method": DIGEST},
            fallback_signers=[{"digest_method": hashlib.sha1}],
        )
        # itsdangerous's dumps builds a Signer and derives its key for every token
        # (22 us against 8 here); a send signs one per message, so the keyed MAC is made
        # once and copied. The token is the one dumps makes when it does not compress (it never
        # does for ids this short); verify() reads it with itsdangerous.
        self._mac = hmac.new(self._serializer.make_signer().derive_key(), digestmod=DIGEST)

    def sign(self, customer_id: str, channel: Channel, campaign_id: str) -> str:
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        payload = json.dumps(
            [customer_id, channel, campaign_id], ensure_ascii=False, separators=(",", ":")
        )
        body = _base64(payload.encode())
        mac = self._mac.copy()
        mac.update(body)
        return f"{body.decode()}.{_base64(mac.digest()).decode()}"

    def verify(self, token: str) -> Unsubscribe:
        try:
            payload = self._serializer.loads(token)
        except BadSignature:
            raise InvalidToken("this unsubscribe link is not valid") from None
        if (
            not isinstance(payload, list)
            or len(payload) != 3
            or not all(isinstance(p, str) and p for p in payload)
            or payload[1] not in CHANNELS
        ):
            raise InvalidToken("this unsubscribe link is not valid")
        customer_id, channel, campaign_id = payload
        return Unsubscribe(customer_id, channel, campaign_id)


def _base64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")
