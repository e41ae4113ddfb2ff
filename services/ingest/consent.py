"""Consent on the customer document, and who a channel's audience leaves out. Pure.

Stored flat, so rules, the columnar read model and MongoDB filters read it like any
other field: ``consent_email`` / ``consent_sms`` hold ``subscribed`` or
``unsubscribed`` (absent: unknown), with ``consent_<channel>_source`` (api, import,
link, vendor, admin) and ``consent_<channel>_at``.

An import or API record never lowers the bar set by the person: ``unknown`` keeps what
is stored, and ``subscribed`` does not undo an unsubscription the person made (link),
the vendor reported, or an admin recorded; only another such source can.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from libs.common.consent import CHANNELS

Doc = dict[str, Any]
PERSONAL_SOURCES = frozenset({"link", "vendor", "admin"})
ADDRESS_PATH = {"email": "email", "sms": "phone"}


def state_path(channel: str) -> str:
    return f"consent_{channel}"


def consent_fields(
    given: Mapping[str, str] | None, source: str, old: Doc | None, now: datetime
) -> Doc:
    """The consent fields of a customer rebuilt from a record (``given``: its consent)."""
    out: Doc = {}
    for channel in CHANNELS:
        path = state_path(channel)
        kept = {k: old[k] for k in (path, f"{path}_source", f"{path}_at") if old and k in old}
        state = (given or {}).get(channel)
        if state in (None, "unknown") or state == kept.get(path):
            out.update(kept)
            continue
        locked = kept.get(path) == "unsubscribed" and kept.get(f"{path}_source") in (
            PERSONAL_SOURCES
        )
        if locked and source not in PERSONAL_SOURCES:
            out.update(kept)
            continue
        out.update({path: state, f"{path}_source": source, f"{path}_at": now})
    return out


def with_consent(doc: Doc, channel: str, state: str, source: str, now: datetime) -> Doc:
    """``doc`` after a person's (or vendor's, or admin's) own consent change."""
    path = state_path(channel)
    new = {k: v for k, v in doc.items() if not k.startswith(path)}
    if state != "unknown":
        new.update({path: state, f"{path}_source": source, f"{path}_at": now})
    return new


def consent_view(doc: Doc, iso: Any) -> Doc:
    """``{"email": {"state", "source", "updatedAt"}, "sms": {...}}`` for the API."""
    view: Doc = {}
    for channel in CHANNELS:
        path = state_path(channel)
        view[channel] = {
            "state": doc.get(path, "unknown"),
            "source": doc.get(f"{path}_source"),
            "updatedAt": iso(doc.get(f"{path}_at")),
        }
    return view


def channel_of(requested: str | None) -> str:
    """The channel an audience is excluded for: a campaign without one sends email
    (every customer has an email; delivery picks email first)."""
    return requested if requested in CHANNELS else "email"


def exclusion(doc: Doc, channel: str, suppressed: Collection[str]) -> str | None:
    """Why ``doc`` is left out of ``channel``'s audience ("unsubscribed", "suppressed"),
    or None. ``suppressed``: the channel's suppressed addresses (normalised), compared
    with the stored address as the preview's read model compares them, so preview and
    resolver leave out the same people. (Delivery's own check, by hash of the
    normalised address, also catches a phone number stored in another format.)"""
    if doc.get(state_path(channel)) == "unsubscribed":
        return "unsubscribed"
    if doc.get(ADDRESS_PATH[channel]) in suppressed:
        return "suppressed"
    return None
