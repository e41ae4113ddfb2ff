"""How many of an audience delivery will defer for quiet hours or skip as capped, if
the campaign leaves at ``at`` (issue #24: "campaign previews say how many").

The same order as delivery (services/delivery/pacing.py): a member whose clock (their
``timezone``, the workspace zone when they have none or an unknown one) is inside the
quiet hours is deferred; of the others, one whose frequency cap on the channel holds
past ``at`` is capped. The cap state is what delivery announced (``CapsReached``):
members it has not yet seen at their cap are not counted. Pure over the columns, and a
database variant for when the columns are not current (small bases only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from libs.common.clock import epoch_ms
from libs.common.sendwindow import QuietHours, zone
from services.ingest.audience.columns import Columns
from services.ingest.pacing_store import PacingPolicy

Doc = dict[str, Any]


@dataclass(frozen=True)
class PacingCounts:
    deferred: int = 0
    capped: int = 0


def quiet_now(quiet: QuietHours, name: str | None, workspace: str, at: datetime) -> bool:
    """Is ``at`` inside the quiet hours on the clock of zone ``name``?"""
    return quiet.contains(at, zone(name, workspace))


def quiet_rows(columns: Columns, quiet: QuietHours, workspace: str, at: datetime) -> np.ndarray:
    """Per row: is the customer's local time at ``at`` inside the quiet hours? One
    answer per distinct zone (the vocabulary), gathered by each row's code."""
    text = columns.texts["timezone"]
    vocab = text.vocab
    table = np.fromiter(
        (quiet_now(quiet, vocab[code], workspace, at) for code in range(len(vocab))),
        bool,
        len(vocab),
    )
    # the last slot answers code -1 (no zone): the workspace's clock
    table = np.append(table, quiet_now(quiet, None, workspace, at))
    return table[text.data[: columns.n]]


def column_counts(
    columns: Columns, mask: np.ndarray, policy: PacingPolicy | None, channel: str, at: datetime
) -> PacingCounts:
    if policy is None:
        return PacingCounts()
    deferred = np.zeros(columns.n, dtype=bool)
    if policy.quiet is not None:
        deferred = mask & quiet_rows(columns, policy.quiet, policy.timezone, at)
    capped = 0
    if policy.cap is not None and channel in columns.capped:
        holds = columns.capped[channel].data[: columns.n] > epoch_ms(at)
        capped = int(np.count_nonzero(mask & ~deferred & holds))
    return PacingCounts(int(np.count_nonzero(deferred)), capped)


def database_counts(
    count: Callable[[Doc], int],
    zones: Iterable[Any],
    flt: Doc,
    policy: PacingPolicy | None,
    capped_ids: list[str],
    at: datetime,
) -> PacingCounts:
    """The same counts from the database: ``count(filter)``, the distinct ``timezone``
    values of the audience ``flt``, the ids whose cap holds past ``at``. Only ``$in``
    (``$nin``/``$ne`` over missing fields are unreliable on nx-27017)."""
    if policy is None:
        return PacingCounts()
    quiet_names: list[str] = []
    workspace_quiet = False
    calm_names: list[str] = []
    if policy.quiet is not None:
        names = [z for z in zones if isinstance(z, str)]
        quiet_names = [z for z in names if quiet_now(policy.quiet, z, policy.timezone, at)]
        calm_names = [z for z in names if z not in quiet_names]
        workspace_quiet = quiet_now(policy.quiet, None, policy.timezone, at)

    def deferred_among(base: Doc) -> int:
        if policy.quiet is None:
            return 0
        if workspace_quiet:  # no zone, or an unknown one, is quiet too
            return count(base) - count({"$and": [base, {"timezone": {"$in": calm_names}}]})
        return count({"$and": [base, {"timezone": {"$in": quiet_names}}]})

    deferred = deferred_among(flt)
    capped = 0
    if policy.cap is not None and capped_ids:
        among = {"$and": [flt, {"_id": {"$in": capped_ids}}]}
        capped = count(among) - deferred_among(among)
    return PacingCounts(deferred, capped)
