"""Scrubbing a person out of read-model documents (libs/common/erasure.py)."""

from __future__ import annotations

from libs.common.erasure import DROP, UNCHANGED, Scrubber, anonymous_id


def test_their_records_go_their_id_turns_anonymous_their_texts_go_empty() -> None:
    scrub = Scrubber("c7", ["Ann Lee", "ann@example.com"])
    doc = {
        "_id": "log-1",
        "records": [{"id": "c7", "name": "Ann Lee"}, {"id": "c8", "name": "Bo"}],
        "customer_ids": ["c8", "c7"],  # a parallel list keeps its length
        "message_ids": ["cmp:c7"],
        "note": "ann@example.com",
    }
    out = scrub.scrub(doc)
    assert out == {
        "_id": "log-1",
        "records": [{"id": "c8", "name": "Bo"}],
        "customer_ids": ["c8", anonymous_id("c7")],
        "message_ids": [f"cmp:{anonymous_id('c7')}"],
        "note": "",
    }
    assert "c7" not in str(out) and "Ann" not in str(out)


def test_a_document_that_is_theirs_is_dropped_and_others_are_unchanged() -> None:
    scrub = Scrubber("c7", [])
    assert scrub.scrub({"_id": "c7", "total": 3}) is DROP
    assert scrub.scrub({"_id": "c8", "records": [{"id": "c9"}]}) is UNCHANGED
    assert scrub.scrub({"_id": "x", "ids": ["c70", "cmp:c70"]}) is UNCHANGED, "not inside c70"
