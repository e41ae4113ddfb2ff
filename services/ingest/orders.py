"""One rule for an order id sent more than once: its first version wins.

An order is immutable. Within a request the first record of an id is the one queued;
across requests the one recorded already stays (the worker inserts only new ids). A
later record of the same id with another customer, amount or items is not applied and
is reported in the 202 answer under ``duplicates``; an identical copy is a harmless
re-send: accepted (once per request), and it changes nothing. The date is not
compared: an undated order is dated on receipt, so two sends of it differ there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Record = dict[str, Any]
DIFFERENT_VERSION = "order id already recorded with another customer, amount or items"


def version(order: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        str(order["customer_id"]),
        round(float(order["amount"]), 2),
        tuple(order.get("items") or ()),
    )


def first_versions(
    records: Sequence[Record], recorded: Mapping[str, Mapping[str, Any]]
) -> tuple[list[Record], list[dict[str, str]]]:
    """The records to queue, and the duplicates refused (``{"id", "reason"}``).
    ``recorded``: the stored orders among these ids, by id."""
    first: dict[str, Record] = {}
    keep: list[Record] = []
    duplicates: list[dict[str, str]] = []
    for record in records:
        order_id = str(record["id"])
        earlier = recorded.get(order_id) or first.get(order_id)
        if earlier is not None and version(earlier) != version(record):
            duplicates.append({"id": order_id, "reason": DIFFERENT_VERSION})
        elif order_id not in first:  # new, or a re-send of the recorded version
            first[order_id] = record
            keep.append(record)
    return keep, duplicates
