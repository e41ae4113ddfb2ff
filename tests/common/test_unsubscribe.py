"""Unsubscribe tokens: round trip, tampering, another customer, key rotation."""

from __future__ import annotations

import base64
import hashlib

import pytest
from itsdangerous import URLSafeSerializer

from libs.common.unsubscribe import SALT, InvalidToken, TokenSigner, Unsubscribe

pytestmark = pytest.mark.unit


def test_a_token_names_customer_channel_and_campaign() -> None:
    signer = TokenSigner(["k1"])
    token = signer.sign("cust_42", "email", "cmp_7")
    assert signer.verify(token) == Unsubscribe("cust_42", "email", "cmp_7")


def test_tokens_differ_per_customer_and_are_not_sequential() -> None:
    signer = TokenSigner(["k1"])
    a, b = signer.sign("c1", "sms", "cmp"), signer.sign("c2", "sms", "cmp")
    assert a != b
    assert a.split(".")[-1] != b.split(".")[-1]


def test_a_tampered_token_is_refused() -> None:
    signer = TokenSigner(["k1"])
    token = signer.sign("c1", "email", "cmp")
    body, signature = token.rsplit(".", 1)
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(InvalidToken):
        signer.verify(f"{body}.{flipped}")


def test_a_token_edited_to_name_another_customer_is_refused() -> None:
    signer = TokenSigner(["k1"])
    token = signer.sign("c1", "email", "cmp")
    body, signature = token.rsplit(".", 1)
    decoded = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    other = base64.urlsafe_b64encode(decoded.replace(b"c1", b"c2")).rstrip(b"=").decode()
    with pytest.raises(InvalidToken):
        signer.verify(f"{other}.{signature}")


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = TokenSigner(["attacker"]).sign("c1", "email", "cmp")
    with pytest.raises(InvalidToken):
        TokenSigner(["k1"]).verify(token)


def test_rotation_keeps_old_links_working_until_their_key_is_removed() -> None:
    old = TokenSigner(["k1"]).sign("c1", "sms", "cmp")
    rotated = TokenSigner(["k1", "k2"])
    assert rotated.verify(old).customer_id == "c1"
    new = rotated.sign("c1", "sms", "cmp")
    assert TokenSigner(["k2"]).verify(new).customer_id == "c1"
    with pytest.raises(InvalidToken):
        TokenSigner(["k2"]).verify(old)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "x" * 500])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        TokenSigner(["k1"]).verify(garbage)


def test_signing_needs_a_key_and_a_known_channel() -> None:
    with pytest.raises(ValueError):
        TokenSigner([])
    with pytest.raises(ValueError):
        TokenSigner(["k1"]).sign("c1", "fax", "cmp")  # type: ignore[arg-type]


def test_a_token_is_what_itsdangerous_signs_with_sha256() -> None:
    """The fast path makes itsdangerous's own token (uncompressed, HMAC-SHA256)."""
    reference = URLSafeSerializer(
        ["k1"], salt=SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )
    for ids in [("c000123", "email", "cmp_7"), ("ünï", "sms", "jrn_abc.send.1")]:
        assert TokenSigner(["k1"]).sign(*ids) == reference.dumps(list(ids))  # type: ignore[arg-type]


def test_a_long_token_that_itsdangerous_would_compress_still_verifies() -> None:
    signer = TokenSigner(["k1"])
    customer = "c" + "ab" * 300
    assert signer.verify(signer.sign(customer, "email", "cmp")).customer_id == customer


def test_tokens_signed_with_sha1_before_still_verify_until_their_key_leaves() -> None:
    old = URLSafeSerializer(["k1"], salt=SALT).dumps(["c1", "email", "cmp"])  # SHA-1
    assert TokenSigner(["k1", "k2"]).verify(old) == Unsubscribe("c1", "email", "cmp")
    with pytest.raises(InvalidToken):
        TokenSigner(["k2"]).verify(old)
