"""The header row of a CSV import, read the way people write it, and row errors in words.

Headers match API fields case-insensitively, ignoring spaces, ``_`` and ``-``, and by
common aliases ("Customer ID", "E-mail", "Mobile", "Total Spend", "Last Visit Date",
"Order Total"...). Columns that are no field are ignored and reported on row 1.

A customers file without an id column is accepted when it has an email column: the id
is then derived from the email (``email-`` + the first 24 hex digits of the SHA-256 of
the lower-cased address), so importing the file again updates the same customers
rather than adding new ones; a row without an email is rejected. (A customer already
known under another id becomes a second customer: give the id column to update it.)
Orders always need their id: an order without one cannot be told from a resend.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "id": ("id", "customer id", "customerid", "client id", "external id", "customer number"),
        "name": ("name", "full name", "customer name", "customer"),
        "email": ("email", "e-mail", "email address", "e-mail address", "mail"),
        "phone": ("phone", "phone number", "mobile", "mobile number", "contact number", "tel"),
        "totalSpends": (
            "totalspends", "total spend", "total spent", "spend", "spent", "lifetime value",
            "ltv", "revenue", "total purchases",
        ),
        "visits": ("visits", "visit count", "number of visits", "total visits"),
        "lastVisit": ("lastvisit", "last visit", "last visit date", "last seen", "last active"),
        "createdAt": (
            "createdat", "created at", "created", "signup date", "signed up", "joined",
            "joined at", "customer since", "registration date",
        ),
        "tags": ("tags", "tag", "labels", "segments"),
        "city": ("city", "town"),
        "timezone": ("timezone", "time zone", "tz"),
        "attributes": ("attributes",),
        "consentEmail": ("consentemail", "consent email", "email consent", "email opt in"),
        "consentSms": ("consentsms", "consent sms", "sms consent", "sms opt in"),
    },
    "orders": {
        "id": ("id", "order id", "orderid", "order number", "order no"),
        "customerId": ("customerid", "customer id", "customer", "client id"),
        "amount": ("amount", "total", "order total", "order amount", "value", "price"),
        "items": ("items", "products", "line items"),
        "date": ("date", "order date", "ordered at", "created at", "purchase date"),
    },
}  # fmt: skip
REQUIRED = {
    "customers": ("name", "email", "totalSpends", "visits"),
    "orders": ("id", "customerId", "amount"),
}


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


@dataclass
class Header:
    fields: dict[str, str]  # column as written -> API field
    labels: dict[str, str]  # API field -> column as written (for messages)
    ignored: list[str] = field(default_factory=list)
    derive_id: bool = False


class HeaderProblem(ValueError):
    """The header row cannot be used: the message says why, in words."""


def read_header(columns: list[str], kind: str) -> Header:
    aliases = {_key(a): f for f, names in _ALIASES[kind].items() for a in names}
    fields: dict[str, str] = {}
    labels: dict[str, str] = {}
    ignored: list[str] = []
    for column in columns:
        name = aliases.get(_key(column))
        if name is None:
            if column.strip():
                ignored.append(column.strip())
            continue
        if name in labels:
            raise HeaderProblem(f"two columns for {name}: {labels[name]!r} and {column.strip()!r}")
        fields[column] = name
        labels[name] = column.strip()
    derive = kind == "customers" and "id" not in labels
    missing = [f for f in REQUIRED[kind] if f not in labels]
    if missing:
        found = ", ".join(repr(c.strip()) for c in columns if c.strip()) or "nothing"
        needs = "; ".join(f"{f} (or {', '.join(_ALIASES[kind][f][1:4])})" for f in missing)
        why = " (an import replaces a customer's record)" if kind == "customers" else ""
        raise HeaderProblem(f"the CSV needs columns for {needs}{why}; found {found}")
    return Header(fields, labels, ignored, derive)


def email_id(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"email-{digest[:24]}"


_READABLE = (
    (re.compile(r"^Field required$"), "missing"),
    (re.compile(r"^Extra inputs are not permitted$"), "not a field"),
    (re.compile(r"^Input should be a valid number.*"), "not a number"),
    (re.compile(r"^Input should be a valid integer.*"), "not a whole number"),
    (re.compile(r"^Input should be greater than or equal to (\S+)$"), r"must be \1 or more"),
    (re.compile(r"^Input should be less than or equal to (\S+)$"), r"must be \1 or less"),
    (re.compile(r"^String should have at most (\d+) characters?$"), r"longer than \1 characters"),
    (re.compile(r"^String should have at least 1 character$"), "empty"),
)
_PATTERN_WORDS = {
    "email": "not an email address",
    "phone": "not a phone number (digits, spaces and + ( ) . / - only)",
    "id": "not a usable id (no leading space or $, no control characters)",
    "customerId": "not a usable customer id (no leading space or $, no control characters)",
}


def readable_error(field_name: str, message: str, header: Header) -> str:
    """'Email: not an email address' rather than a pydantic message with a regex."""
    top = field_name.split(".")[0]
    label = header.labels.get(top, field_name)
    if header.derive_id and top == "email" and message == "Field required":
        return f"{label}: missing (without an id column the email identifies the customer)"
    if message.startswith("String should match pattern"):
        return f"{label}: {_PATTERN_WORDS.get(top, 'not in the expected format')}"
    for pattern, words in _READABLE:
        if pattern.match(message):
            return f"{label}: {pattern.sub(words, message)}"
    return f"{label}: {message}"
