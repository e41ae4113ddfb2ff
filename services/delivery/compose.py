"""Turning a send entry's recipients into messages: channel, address, rendered body,
and the content-derived idempotency key of a vendor batch. Pure functions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from libs.common.events import Recipient, message_id
from libs.common.formatting import WorkspaceFormat
from libs.common.templates import DEFAULT_FORMAT, Template, TemplateError, parse_template, render

CHANNELS = ("sms", "email")
# The longest rendered body each channel takes (the 2,000-character limit of the API is
# on the template; placeholders can make a body far longer).
MAX_BODY = {"sms": 1600, "email": 100_000}
BODY_TOO_LONG = "body_too_long"
DATE_PLACEHOLDERS = ("lastVisit", "lastOrderAt")
# (customer id, channel) -> the person's unsubscribe link for this campaign
UnsubscribeLink = Callable[[str, str], str]


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    campaign_id: str
    customer_id: str
    to: str
    channel: str
    body: str
    headers: tuple[tuple[str, str], ...] = ()

    def vendor_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "clientRef": self.message_id,
            "to": self.to,
            "channel": self.channel,
            "body": self.body,
        }
        if self.headers:
            payload["headers"] = dict(self.headers)
        return payload


def unsubscribe_headers(url: str) -> tuple[tuple[str, str], ...]:
    """RFC 8058 one-click unsubscribe: every marketing email carries both."""
    return (
        ("List-Unsubscribe", f"<{url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )


@dataclass(frozen=True)
class Undeliverable:
    message_id: str
    campaign_id: str
    customer_id: str
    reason: str


def template_values(recipient: Recipient) -> dict[str, Any]:
    """Placeholder values: the entry's fields, completed by the recipient's contact data."""
    values: dict[str, Any] = {
        "name": recipient.name,
        "email": recipient.email,
        "phone": recipient.phone,
    }
    if recipient.name and recipient.name.split():
        values["firstName"] = recipient.name.split()[0]
    values.update({k: v for k, v in recipient.fields.items() if v is not None})
    for name in DATE_PLACEHOLDERS:
        values[name] = _as_datetime(values.get(name))
    return values


def _as_datetime(value: Any) -> Any:
    """Dates travel as ISO text in stream entries; render them as dates again."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def pick_channel(requested: str | None, recipient: Recipient) -> tuple[str, str] | str:
    """(channel, address), or the reason the recipient cannot be reached."""
    if requested and requested not in CHANNELS:
        return f"unsupported channel {requested!r}"
    channel = requested or ("email" if recipient.email else "sms")
    address = recipient.email if channel == "email" else recipient.phone
    if not address:
        return "no email address" if channel == "email" else "no phone number"
    return channel, address


def compose(
    campaign_id: str,
    message: str,
    channel: str | None,
    recipients: Sequence[Recipient],
    fmt: WorkspaceFormat = DEFAULT_FORMAT,
    unsubscribe: UnsubscribeLink | None = None,
) -> tuple[list[Outgoing], list[Undeliverable]]:
    """Render every recipient's message in the workspace's currency and locale; the
    template is parsed once per chunk."""
    template: Template | None = None
    template_error = ""
    try:
        template = parse_template(message)
    except TemplateError as exc:
        template_error = f"invalid template: {exc.message}"
    outgoing: list[Outgoing] = []
    undeliverable: list[Undeliverable] = []
    for recipient in recipients:
        mid = message_id(campaign_id, recipient.customer_id)
        route = pick_channel(channel, recipient)
        if template is None or isinstance(route, str):
            reason = template_error or str(route)
            undeliverable.append(Undeliverable(mid, campaign_id, recipient.customer_id, reason))
            continue
        values = template_values(recipient)
        link = unsubscribe(recipient.customer_id, route[0]) if unsubscribe else None
        values["unsubscribeUrl"] = link
        body = render(template, values, fmt)
        if len(body) > MAX_BODY[route[0]]:
            # alone: the vendor would refuse the whole batch it is in
            undeliverable.append(
                Undeliverable(mid, campaign_id, recipient.customer_id, BODY_TOO_LONG)
            )
            continue
        headers = unsubscribe_headers(link) if link and route[0] == "email" else ()
        outgoing.append(
            Outgoing(mid, campaign_id, recipient.customer_id, route[1], route[0], body, headers)
        )
    return outgoing, undeliverable


def batch_key(kind: str, campaign_id: str, part: str | int, ids: Sequence[str]) -> str:
    """The vendor idempotency key of a batch: the same messages give the same key."""
    digest = hashlib.sha256()
    digest.update(f"{kind}|{campaign_id}|{part}|".encode())
    digest.update("\n".join(ids).encode())
    return f"{kind}-{digest.hexdigest()}"
