"""GET /customers from the columnar read model: the total and the page's ids, in exactly
the order the database gives (``store.list_customers``).

That order is the sort field, then ``_id`` ascending; a missing field sorts first
ascending and last descending (MongoDB's order; customers never store null). Strings
compare by code point, which is MongoDB's binary order of their UTF-8 bytes. Each row
gets one float64 key (text: the rank of its string, numbers and dates: the value, with
the direction and the missing values folded in) and the rank of its id as the
tie-break; a page is then an ``argpartition`` of the first ``skip + limit`` rows and a
sort of just those.
"""

from __future__ import annotations

import bisect
import re
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np

from services.ingest.audience.columns import Columns, StringTable

# The customer search box ("Search by name, email, city…"): case-insensitive substring
# of any of these, alike from the read model and from the database.
SEARCH_PATHS = ("name", "email", "city", "phone")


def search_query(needle: str) -> dict[str, Any]:
    """The database filter of a search (empty: everyone)."""
    if not needle:
        return {}
    pattern = {"$regex": re.escape(needle), "$options": "i"}
    return {"$or": [{path: pattern} for path in SEARCH_PATHS]}


# API sort names -> document paths (every one a column of the read model)
SORTS = {
    "name": "name",
    "email": "email",
    "city": "city",
    "totalSpends": "total_spends",
    "visits": "visits",
    "lastVisit": "last_visit",
    "createdAt": "created_at",
    "orderCount": "order_count",
    "lastOrderAt": "last_order_at",
}
# Merging k new strings costs ~k * log2(n) comparisons in Python; past this share of
# the known ones a full sort is cheaper.
RESORT_SHARE = 0.25


class StringRanks:
    """The rank of every string of a table in sorted order, kept current as the table
    grows: new strings are sorted and merged in, not the whole table sorted again."""

    def __init__(self, table: StringTable) -> None:
        self.table = table
        self.order = np.zeros(0, dtype=np.int32)  # codes in string order
        self.rank = np.zeros(0, dtype=np.int32)  # rank of each code

    def current(self) -> np.ndarray:
        size, known = len(self.table), len(self.order)
        if known == size:
            return self.rank
        if known == 0 or size - known > known * RESORT_SHARE:
            self.order = sorted_codes(self.table)
        else:
            new = sorted(range(known, size), key=self.table.__getitem__)
            at = [bisect.bisect_left(self.order, self.table[c], key=self._string) for c in new]
            self.order = np.insert(self.order, at, np.array(new, dtype=np.int32))
        self.rank = np.empty(size, dtype=np.int32)
        self.rank[self.order] = np.arange(size, dtype=np.int32)
        return self.rank

    def _string(self, code: np.int32) -> str:
        return self.table[int(code)]


def sorted_codes(table: StringTable) -> np.ndarray:
    """Every code of the table in string order, with little memory: a numpy sort on the
    strings' first 16 bytes, then Python comparisons only inside runs of equal prefixes
    (UTF-8 byte order is code-point order)."""
    high, low = table.prefix_keys()
    order = np.lexsort((low, high)).astype(np.int32)
    high, low = high[order], low[order]
    same = np.concatenate([[False], (high[1:] == high[:-1]) & (low[1:] == low[:-1]), [False]])
    edges = np.diff(same.astype(np.int8))
    for start, stop in zip(
        np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) + 1, strict=True
    ):  # a run of equal prefixes: order[start:stop]
        run = order[start:stop].tolist()
        order[start:stop] = sorted(run, key=table.__getitem__)
    return order


# Ranks live beside the read model, not in it: only listing needs them, and they go
# with their table when a reload replaces the model.
_RANKS: WeakKeyDictionary[StringTable, StringRanks] = WeakKeyDictionary()


def ranks_of(table: StringTable) -> np.ndarray:
    ranks = _RANKS.get(table)
    if ranks is None:
        ranks = _RANKS[table] = StringRanks(table)
    return ranks.current()


def warm(cols: Columns) -> None:
    """Rank the ids and the sortable text columns now (at load, off the request path)."""
    ranks_of(cols.ids)
    for path in SORTS.values():
        if path in cols.texts:
            ranks_of(cols.texts[path].vocab)


def sort_key(cols: Columns, path: str, descending: bool) -> np.ndarray:
    """One float64 per row: ascending in the requested order, missing values first
    ascending and last descending."""
    n = cols.n
    if path in cols.texts:
        codes = cols.texts[path].data[:n]
        ranks = np.append(ranks_of(cols.texts[path].vocab).astype(np.float64), np.nan)
        values = ranks[codes]  # code -1 (absent) gathers the NaN at the end
    else:
        values = (cols.numbers[path] if path in cols.numbers else cols.dates[path]).data[:n]
    key = -values if descending else values.copy()
    key[np.isnan(values)] = np.inf if descending else -np.inf
    return key


def page_order(key: np.ndarray, tie: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Positions of the entries ranked ``start`` to ``stop - 1`` by (key, tie); ties are
    distinct. Only the first ``stop`` entries are ever sorted."""
    stop = min(stop, len(key))
    if stop <= start:
        return np.zeros(0, dtype=np.int64)
    if stop < len(key):
        kth = np.partition(key, stop - 1)[stop - 1]
        below = np.flatnonzero(key < kth)
        at = np.flatnonzero(key == kth)
        need = stop - len(below)
        if need < len(at):  # many rows share the boundary value: the lowest ids of them
            at = at[np.argpartition(tie[at], need - 1)[:need]]
        candidates = np.concatenate([below, at])
    else:
        candidates = np.arange(len(key))
    ordered = candidates[np.lexsort((tie[candidates], key[candidates]))]
    return ordered[start:stop]


def list_page(
    cols: Columns, *, path: str, descending: bool, needle: str, skip: int, limit: int
) -> tuple[list[str], int]:
    """(the page's customer ids in order, the number of listed customers matching)."""
    n = cols.n
    mask = cols.listed.data[:n].copy()
    if needle:
        mask &= np.logical_or.reduce([cols.texts[p].contains(needle, n) for p in SEARCH_PATHS])
    rows = np.flatnonzero(mask)
    if skip >= len(rows):
        return [], len(rows)
    key = sort_key(cols, path, descending)[rows]
    tie = ranks_of(cols.ids)[rows]
    page = rows[page_order(key, tie, skip, skip + limit)]
    return [cols.ids[int(r)] for r in page], len(rows)


def audience_ids(
    cols: Columns, mask: np.ndarray, after_id: str | None, limit: int | None = None
) -> list[str]:
    """The selected rows' customer ids in ``_id`` order (the resolver's walk order),
    those after ``after_id`` only, at most ``limit`` of them (strings are made for
    those alone: a million ids as Python strings are ~60 MB)."""
    rows = np.flatnonzero(mask)
    rows = rows[np.argsort(ranks_of(cols.ids)[rows], kind="stable")]
    start = 0
    if after_id is not None:
        start = bisect.bisect_right(rows, after_id, key=lambda r: cols.ids[int(r)])
    end = len(rows) if limit is None else start + limit
    return [cols.ids[int(r)] for r in rows[start:end]]
