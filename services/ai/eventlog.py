"""The AI read models as logs of stream entries, and the folds that read them (pure).

The AI service copies every customer and every campaign message, which on a
single-threaded embedded database cost as many writes again as the owning services
make. It stores instead one document per stream entry it consumed (``_id`` = the
entry's ``log_key``): an ingest entry of 500 customers is one insert, and a redelivered
entry is a duplicate key, so applying an entry twice changes nothing. Readers fold the
documents: the record of the latest entry wins. The folds do not depend on the order
the documents are read in (each record carries the key it came from), so two workers
writing concurrently, or an old entry redelivered late, still fold to stream order.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from libs.common.clock import epoch_ms as to_ms
from libs.common.clock import from_ms

Doc = dict[str, Any]

_fallback_seq = itertools.count()


def log_key(entry_id: str | None) -> str:
    """A stream entry id (``ms-seq``) as a fixed-width key that sorts in stream order;
    an event not read from a stream (None) gets a fresh key from the clock."""
    if entry_id is None:
        return f"{time.time_ns() // 1_000_000:015d}-{next(_fallback_seq):010d}~local"
    ms, _, seq = entry_id.partition("-")
    return f"{int(ms):015d}-{int(seq or 0):010d}"


# -- customers ------------------------------------------------------------------------
def fold_customers(docs: Iterable[Doc]) -> dict[str, tuple[str, Doc]]:
    """customer id -> (source key, fields) of its latest record.

    A log document holds ``records`` (each with ``_id``) from the entry ``_id`` names; a
    compacted snapshot document holds ``records`` and, beside them, ``sources``: the
    key each record came from.
    """
    latest: dict[str, tuple[str, Doc]] = {}
    for doc in docs:
        records: list[Doc] = doc.get("records", [])
        sources: Sequence[str] = doc.get("sources") or [doc["_id"]] * len(records)
        for source, record in zip(sources, records, strict=True):
            cid = record["_id"]
            held = latest.get(cid)
            if held is None or source > held[0]:
                latest[cid] = (source, record)
    return latest


def customer_log_docs(entries: Sequence[tuple[str, Sequence[Doc]]], max_records: int) -> list[Doc]:
    """Log documents for (entry key, records) in stream order: runs of consecutive
    entries share a document of up to ``max_records`` records, so a trickle of
    single-record entries costs the database one insert per read, not one per entry.

    A document of one entry is keyed by it (as ever); a run is keyed ``first~last`` and
    lists each record's own key in ``sources``, so it folds exactly as its entries
    would. A redelivery grouped differently adds a document of records already held,
    which the fold takes once and the compaction removes."""
    docs: list[Doc] = []
    run: list[tuple[str, Sequence[Doc]]] = []
    held = 0

    def close() -> None:
        if len(run) == 1:
            docs.append({"_id": run[0][0], "records": list(run[0][1])})
        elif run:
            docs.append(
                {
                    "_id": f"{run[0][0]}~{run[-1][0]}",
                    "records": [record for _, records in run for record in records],
                    "sources": [key for key, records in run for _ in records],
                }
            )
        run.clear()

    for key, records in entries:
        if not records:
            continue
        if run and held + len(records) > max_records:
            close()
            held = 0
        run.append((key, records))
        held += len(records)
    close()
    return docs


def snapshot_docs(latest: dict[str, tuple[str, Doc]], newest_key: str, size: int) -> list[Doc]:
    """The folded customers as snapshot documents keyed just after ``newest_key``."""
    items = sorted(latest.items())
    return [
        {
            "_id": f"{newest_key}~snapshot{n:06d}",
            "records": [record for _, (_, record) in part],
            "sources": [source for _, (source, _) in part],
        }
        for n, part in enumerate(items[i : i + size] for i in range(0, len(items), size))
    ]


# -- campaign messages ----------------------------------------------------------------
SENT, FINAL, CANCELLED = "sent", "final", "cancelled"


def message_doc(
    key: str,
    campaign_id: str,
    kind: str,
    rows: Sequence[tuple[str, datetime, str, str]],
) -> Doc:
    """One entry's messages of one campaign: (customer id, at, status, reason) rows as
    parallel lists (status and reason only for finals; reason "" when none)."""
    doc: Doc = {
        "_id": f"{key}:{campaign_id}",
        "campaign_id": campaign_id,
        "kind": kind,
        "customers": [r[0] for r in rows],
        "at": [to_ms(r[1]) for r in rows],
    }
    if kind == FINAL:
        doc["status"] = [r[2] for r in rows]
        if any(r[3] for r in rows):
            doc["reason"] = [r[3] for r in rows]
    return doc


def fold_messages(docs: Iterable[Doc]) -> dict[str, Doc]:
    """message id -> its state: ``status``, ``sent_at``, ``final_at``, ``reason``.

    A final outcome (receipt or failure) beats being sent, the final of the earliest
    entry wins (forward only, first final: the rule delivery and campaign apply, so the
    three agree on a message that got two receipts), and a cancellation counts only
    for a message never sent nor finished.
    """
    sent: dict[str, int] = {}
    finals: dict[str, tuple[str, str, int, str]] = {}  # mid -> (key, status, at, reason)
    cancelled: dict[str, int] = {}
    campaign_of: dict[str, tuple[str, str]] = {}
    for doc in docs:
        cid, kind, key = doc["campaign_id"], doc["kind"], doc["_id"]
        statuses = doc.get("status", [])
        reasons = doc.get("reason", [])
        for n, (customer, at) in enumerate(zip(doc["customers"], doc["at"], strict=True)):
            mid = f"{cid}:{customer}"
            campaign_of[mid] = (cid, customer)
            if kind == SENT:
                sent[mid] = at
            elif kind == CANCELLED:
                cancelled[mid] = at
            else:
                held = finals.get(mid)
                if held is None or key < held[0]:
                    finals[mid] = (key, statuses[n], at, reasons[n] if reasons else "")
    state: dict[str, Doc] = {}
    for mid, (cid, customer) in campaign_of.items():
        row: Doc = {"_id": mid, "campaign_id": cid, "customer_id": customer}
        if mid in sent:
            row["sent_at"] = from_ms(sent[mid])
        if mid in finals:
            _, status, at, reason = finals[mid]
            row.update(status=status, final_at=from_ms(at))
            if status == "FAILED" and reason:
                row["reason"] = reason
        elif mid in sent:
            row["status"] = "SENT"
        else:
            row.update(status="CANCELLED", final_at=from_ms(cancelled[mid]))
        state[mid] = row
    return state
