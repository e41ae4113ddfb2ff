"""Consent on the customer document and the audience's exclusions (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.common.consent import address_hash, normalise
from libs.common.rules import compile_rules, matches, parse_rules
from services.ingest.consent import consent_fields, exclusion, with_consent

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 2, 1, tzinfo=UTC)


def test_a_record_sets_consent_and_keeps_its_time_when_unchanged() -> None:
    first = consent_fields({"email": "subscribed"}, "import", None, T0)
    assert first == {
        "consent_email": "subscribed",
        "consent_email_source": "import",
        "consent_email_at": T0,
    }
    again = consent_fields({"email": "subscribed"}, "api", first, T1)
    assert again == first, "the same state again is no change (no new time, no new source)"


def test_unknown_or_absent_keeps_what_is_stored() -> None:
    stored = consent_fields({"sms": "unsubscribed"}, "api", None, T0)
    assert consent_fields({"sms": "unknown"}, "import", stored, T1) == stored
    assert consent_fields(None, "import", stored, T1) == stored


def test_an_import_cannot_undo_the_persons_own_unsubscription() -> None:
    person = with_consent({"_id": "c1"}, "email", "unsubscribed", "link", T0)
    assert consent_fields({"email": "subscribed"}, "import", person, T1)["consent_email"] == (
        "unsubscribed"
    )
    by_api = consent_fields({"email": "unsubscribed"}, "api", None, T0)
    assert consent_fields({"email": "subscribed"}, "import", by_api, T1)["consent_email"] == (
        "subscribed"
    ), "an unsubscription an import made, a later import may undo"


def test_consent_is_a_rule_field_in_mongodb_and_in_python() -> None:
    rules = parse_rules(
        {
            "operator": "AND",
            "conditions": [{"field": "consent.email", "operator": "=", "value": "subscribed"}],
        }
    )
    assert compile_rules(rules, T1) == {"consent_email": "subscribed"}
    assert matches(rules, {"consent_email": "subscribed"}, T1)
    assert not matches(rules, {}, T1)


def test_exclusion_names_the_reason() -> None:
    doc = {"_id": "c1", "email": "a@example.com", "phone": "+91 98000 00001"}
    assert exclusion(doc, "email", set()) is None
    assert exclusion(doc, "email", {"a@example.com"}) == "suppressed"
    assert exclusion({**doc, "consent_email": "unsubscribed"}, "email", set()) == "unsubscribed"
    assert exclusion({**doc, "consent_email": "unsubscribed"}, "sms", set()) is None


def test_addresses_compare_normalised() -> None:
    assert normalise("email", " A@Example.COM ") == "a@example.com"
    assert normalise("sms", "+91 98000-00001") == "+919800000001"
    assert address_hash("sms", "+91 98000 00001") == address_hash("sms", "+919800000001")
    assert address_hash("sms", "+919800000001") != address_hash("email", "+919800000001")
