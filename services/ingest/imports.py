"""CSV imports: parse and validate rows with the API models, queue them in chunks.

Header names are the API field names (``id,name,email,totalSpends,...`` or
``id,customerId,amount,items,date``) or the names people use for them, in any case
(services/ingest/csv_headers.py: "Customer ID", "E-mail", "Total Spend"...; without an id
column a customer's id is derived from the email); ``tags`` and ``items`` cells
separate values with ``;`` or ``|``; ``attributes`` may hold a JSON object. Row errors
name the column as written and say what is wrong in words. Progress is counted by the
worker per processed entry (see store.CustomerStore.get_import).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from libs.common.errors import ValidationFailed
from services.ingest.csv_headers import Header, HeaderProblem, email_id, read_header, readable_error
from services.ingest.intake import KINDS, Record, validate_items
from services.ingest.views import csv_item


@dataclass
class ParsedImport:
    kind: str
    total_rows: int
    valid: list[Record]
    rejected: int
    errors: list[dict[str, Any]] = field(default_factory=list)


def parse_csv(content: bytes, kind: str, max_errors: int) -> ParsedImport:
    if kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {sorted(KINDS)}")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("the file must be UTF-8 encoded CSV") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = read_header(list(reader.fieldnames or []), kind)
        items = [_item(row, header) for row in reader]
    except HeaderProblem as exc:
        raise ValidationFailed(str(exc)) from None
    except csv.Error as exc:
        raise ValidationFailed(f"unreadable CSV: {exc}") from None
    valid, rejected = validate_items(KINDS[kind], items)
    errors = [
        {"row": 1, "message": f"column {column!r} is not a {kind[:-1]} field: ignored"}
        for column in header.ignored
    ]
    errors += [
        {
            # header is line 1, so item i is on line i + 2
            "row": r.index + 2,
            "message": "; ".join(
                readable_error(e["field"], e["message"], header)
                for e in r.errors
                if not (header.derive_id and e["field"] == "id")  # said of the email
            ),
        }
        for r in rejected[: max(0, max_errors - len(errors))]
    ]
    return ParsedImport(kind, len(items), valid, len(rejected), errors)


def _item(row: dict[str | None, Any], header: Header) -> dict[str, Any]:
    """A row under API field names; the id derived from the email when there is none."""
    named = {
        (header.fields[k] if k is not None else None): v
        for k, v in row.items()
        if k is None or k in header.fields
    }
    item = csv_item(named)
    if header.derive_id and isinstance(item.get("email"), str):
        item["id"] = email_id(item["email"])
    return item
