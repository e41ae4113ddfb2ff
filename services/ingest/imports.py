"""CSV imports: parse and validate rows with the API models, queue them in chunks.

Header names are the API field names (``id,name,email,totalSpends,...`` or
``id,customerId,amount,items,date``); ``tags`` and ``items`` cells separate values with
``;`` or ``|``; ``attributes`` may hold a JSON object. Progress is counted by the worker
per processed entry (see store.CustomerStore.get_import).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from libs.common.errors import ValidationFailed
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
    if not reader.fieldnames or "id" not in [f.strip() for f in reader.fieldnames]:
        raise ValidationFailed("the CSV needs a header row with at least an 'id' column")
    try:
        items = [csv_item(row) for row in reader]
    except csv.Error as exc:
        raise ValidationFailed(f"unreadable CSV: {exc}") from None
    valid, rejected = validate_items(KINDS[kind], items)
    errors = [
        {
            # header is line 1, so item i is on line i + 2
            "row": r.index + 2,
            "message": "; ".join(f"{e['field']}: {e['message']}" for e in r.errors),
        }
        for r in rejected[:max_errors]
    ]
    return ParsedImport(kind, len(items), valid, len(rejected), errors)
