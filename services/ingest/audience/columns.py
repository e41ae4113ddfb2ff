"""In-memory columnar read model of the customers, for audience previews in milliseconds.

One row per customer, one numpy column per rule field (libs.common.rules.FIELDS):
- numbers (totalSpends, visits, orderCount): float64, NaN when absent;
- dates (lastVisit, lastOrderAt, createdAt): float64 epoch milliseconds (floored, as
  BSON stores them), NaN when absent;
- text (name, email, phone, city, timezone): dictionary-encoded int32 codes (-1 when
  absent) over a vocabulary; ``=``/``in`` become a lookup table gathered by code,
  ``contains`` a search of the lowercased vocabulary joined into one string;
- tags: dictionary-encoded too, one int32 code per row over the distinct tag sets (a
  base has few), so ``contains``/``in`` are a lookup table over those sets.
Plus ``contactable`` (the audience exclusion of store.audience_filter) and ``listed``
(not a placeholder: the customers GET /customers lists, store.LISTED), and each row's
document ``version``, so a change notice older than the row is ignored, and per
channel the moment until which the customer is at delivery's frequency cap (``capped``,
epoch ms, 0 when not: services.ingest.pacing_store, audience/pacing.py).

Row ids and vocabularies are :class:`StringTable`\ s, not Python lists and dicts: at a
million distinct values those cost ~120 MB each (an object, a list slot and a dict
entry per string); packed, a string costs its characters plus ~20 bytes.

:func:`evaluate` turns a parsed rules Group into a boolean mask with the same
semantics as compile_rules + MongoDB and rules.matches (absent fields: ``!=`` and
``inactive_days`` match, comparisons do not); a property test checks all three agree.
"""

from __future__ import annotations

import calendar
import itertools
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from libs.common.clock import epoch_ms
from libs.common.rules import FIELDS, Condition, Group
from services.ingest.aggregates import version_of

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
NUMBER_PATHS = tuple(s.path for s in FIELDS.values() if s.kind == "number")
DATE_PATHS = tuple(s.path for s in FIELDS.values() if s.kind == "date")
TEXT_PATHS = tuple(s.path for s in FIELDS.values() if s.kind == "text")
INT_PATHS = ("visits", "order_count")
CHANNELS = ("email", "sms")
CONTAINS_CACHE = 32  # remembered 'contains' answers per text column
PROJECTION = {
    p: 1
    for p in (
        *NUMBER_PATHS,
        *DATE_PATHS,
        *TEXT_PATHS,
        *("tags", "contactable", "placeholder", "version"),
    )
}


def _date_ms(value: Any) -> float:
    if not isinstance(value, datetime):
        return np.nan
    return float(calendar.timegm(value.utctimetuple()) * 1000 + value.microsecond // 1000)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return np.nan
    return float(value)


def from_ms(value: float) -> str:
    return (EPOCH + timedelta(milliseconds=value)).isoformat().replace("+00:00", "Z")


class _Growable:
    def __init__(self, dtype: Any, fill: Any, capacity: int) -> None:
        self.fill = fill
        self.data = np.full(capacity, fill, dtype=dtype)

    def grow(self, capacity: int) -> None:
        if capacity > len(self.data):
            bigger = np.full(capacity, self.fill, dtype=self.data.dtype)
            bigger[: len(self.data)] = self.data
            self.data = bigger


class StringTable:
    """Append-only strings numbered 0, 1, ... in order of arrival, compact at scale.

    Older strings are packed: joined by NULs into one ``str`` with their start offsets,
    found by value through a sorted array of their hashes (``hash`` is stable only within
    a process: a pickled table, see audience/snapshot.py, leaves them out and hashes its
    strings again when it is loaded). Newer ones wait in a plain list and dict until they
    are a quarter of the packed ones, then join them (amortised O(log n) repacks while
    the table grows).
    """

    MIN_PACK = 65_536

    def __init__(self) -> None:
        self._blob = ""
        self._starts = np.zeros(1, dtype=np.int64)  # one past the end: len(blob) + 1
        self._hashes = np.zeros(0, dtype=np.int64)  # sorted
        self._order = np.zeros(0, dtype=np.int32)  # code of each sorted hash
        self._packed = 0
        self._tail: list[str] = []
        self._tail_index: dict[str, int] = {}
        self._lower: tuple[str, np.ndarray] | None = None

    def __len__(self) -> int:
        return self._packed + len(self._tail)

    def __getstate__(self) -> dict[str, Any]:
        # another process salts ``hash`` differently: its hashes are computed there
        empty = np.zeros(0, dtype=np.int64)
        return {**self.__dict__, "_hashes": empty, "_order": empty, "_lower": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        hashes = np.fromiter(
            (hash(self[code]) for code in range(self._packed)), np.int64, self._packed
        )
        by_hash = np.argsort(hashes, kind="stable")
        self._hashes, self._order = hashes[by_hash], by_hash.astype(np.int32)

    def __getitem__(self, code: int) -> str:
        code = int(code)
        if code < 0:
            raise IndexError(code)
        if code < self._packed:
            return self._blob[self._starts[code] : self._starts[code + 1] - 1]
        return self._tail[code - self._packed]

    def prefix_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """The first 16 UTF-8 bytes of every string (NUL-padded) as two big-endian
        uint64 keys, in code order: comparing (high, low) is comparing those bytes.
        Vectorised over an ASCII packed part, so no string object is made per value."""
        high = np.zeros(len(self), dtype=np.uint64)
        low = np.zeros(len(self), dtype=np.uint64)
        if self._packed and self._blob.isascii():
            blob = np.frombuffer(self._blob.encode("ascii"), dtype=np.uint8)
            starts, ends = self._starts[:-1], self._starts[1:] - 1
            for k in range(16):
                at = starts + k
                byte = np.where(at < ends, blob[np.minimum(at, len(blob) - 1)], 0)
                key = (high if k < 8 else low)[: self._packed]
                key |= byte.astype(np.uint64) << np.uint64(8 * (7 - k % 8))
            done = self._packed
        else:
            done = 0
        for code in range(done, len(self)):
            head = self[code].encode()[:16].ljust(16, b"\x00")
            high[code] = int.from_bytes(head[:8], "big")
            low[code] = int.from_bytes(head[8:], "big")
        return high, low

    def find(self, value: str) -> int | None:
        code = self._tail_index.get(value)
        if code is None and self._packed:
            code = self._find_packed(value, hash(value))
        return code

    def _find_packed(self, value: str, hashed: int) -> int | None:
        i = int(np.searchsorted(self._hashes, hashed))
        while i < len(self._hashes) and self._hashes[i] == hashed:
            if self[int(self._order[i])] == value:
                return int(self._order[i])
            i += 1
        return None

    def codes(self, values: Sequence[str]) -> np.ndarray:
        """The code of every value, adding the new ones (in order)."""
        out = np.empty(len(values), dtype=np.int64)
        if self._packed:
            hashed = np.fromiter((hash(v) for v in values), np.int64, len(values))
            at = np.searchsorted(self._hashes, hashed).clip(max=len(self._hashes) - 1)
            maybe = self._hashes[at] == hashed
        else:
            maybe = np.zeros(len(values), dtype=bool)
        index = self._tail_index
        for i, value in enumerate(values):
            code = index.get(value)
            if code is None and maybe[i]:
                code = self._find_packed(value, hash(value))
            if code is None:
                code = index[value] = len(self)
                self._tail.append(value)
            out[i] = code
        if len(self._tail) >= max(self.MIN_PACK, self._packed // 4):
            self.pack()
        return out

    def pack(self) -> None:
        """Move the waiting strings into the packed part."""
        if not self._tail:
            return
        tail = self._tail
        if "\x00" in "".join(tail):  # a NUL inside a value would break the layout
            return
        lengths = np.fromiter((len(v) + 1 for v in tail), np.int64, len(tail))
        starts = self._starts[-1] + np.cumsum(lengths)
        joined = "\x00".join(tail) + "\x00"
        self._blob = self._blob + joined if self._packed else joined
        self._starts = np.concatenate([self._starts, starts])
        hashes = np.concatenate(
            [self._hashes, np.fromiter((hash(v) for v in tail), np.int64, len(tail))]
        )
        codes = np.concatenate(
            [self._order, np.arange(self._packed, self._packed + len(tail), dtype=np.int32)]
        )
        by_hash = np.argsort(hashes, kind="stable")
        self._hashes, self._order = hashes[by_hash], codes[by_hash]
        self._packed += len(tail)
        self._tail, self._tail_index = [], {}

    def contains(self, needle: str) -> np.ndarray:
        """Which strings contain ``needle`` (already lowercased) once lowercased."""
        hits = np.zeros(len(self), dtype=bool)
        if self._packed:
            if "\x00" in needle:
                for code in range(self._packed):
                    hits[code] = needle in self[code].lower()
            else:
                blob, starts = self.lowered()
                found = (m.start() for m in re.finditer(re.escape(needle), blob))
                positions = np.fromiter(found, np.int64)
                positions = positions[positions < starts[-1]]  # "" also matches at the end
                hits[np.searchsorted(starts, positions, side="right") - 1] = True
        for i, value in enumerate(self._tail):
            hits[self._packed + i] = needle in value.lower()
        return hits

    def lowered(self) -> tuple[str, np.ndarray]:
        """The packed strings lowercased, joined the same way, with their offsets."""
        if self._lower is None or len(self._lower[1]) != self._packed + 1:
            lower = self._blob.lower()
            if len(lower) == len(self._blob):
                starts = self._starts
                lower = self._blob if lower == self._blob else lower
            else:  # some character lowercases to several: offsets differ
                parts = [self[c].lower() for c in range(self._packed)]
                lengths = np.fromiter((len(v) + 1 for v in parts), np.int64, len(parts))
                starts = np.concatenate(([0], np.cumsum(lengths)))
                lower = "\x00".join(parts) + "\x00"
            self._lower = (lower, starts)
        return self._lower


class TextColumn(_Growable):
    def __init__(self, capacity: int) -> None:
        super().__init__(np.int32, -1, capacity)
        self.vocab = StringTable()
        self._hits: dict[str, np.ndarray] = {}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the answer cache (requests add to it from other threads)."""
        return {**self.__dict__, "_hits": {}}

    def set(self, row: int, value: Any) -> None:
        self.data[row] = self.vocab.codes([value])[0] if isinstance(value, str) else -1

    def set_rows(self, rows: np.ndarray, values: Sequence[Any]) -> None:
        present = [i for i, v in enumerate(values) if isinstance(v, str)]
        codes = np.full(len(values), -1, dtype=np.int32)
        codes[present] = self.vocab.codes([values[i] for i in present])
        self.data[rows] = codes

    def value(self, row: int) -> str | None:
        code = int(self.data[row])
        return self.vocab[code] if code >= 0 else None

    def lookup(self, vocab_mask: np.ndarray, n: int) -> np.ndarray:
        # one extra False slot so code -1 (absent) gathers False
        table = np.zeros(len(self.vocab) + 1, dtype=bool)
        table[: len(vocab_mask)] = vocab_mask
        return table[self.data[:n]]

    def equals_any(self, values: Iterable[str], n: int) -> np.ndarray:
        codes = [c for v in values if (c := self.vocab.find(v)) is not None]
        table = np.zeros(len(self.vocab), dtype=bool)
        table[codes] = True
        return self.lookup(table, n)

    def contains(self, needle: str, n: int) -> np.ndarray:
        return self.lookup(self._contains_hits(needle.lower()), n)

    def _contains_hits(self, needle: str) -> np.ndarray:
        """Which vocabulary entries contain ``needle`` (lowercased).

        The vocabulary only ever grows, so an answer stays right for the entries it
        covered; a cached answer is extended over the new entries only.
        """
        hits = self._hits.pop(needle, None)
        if hits is None:
            hits = self.vocab.contains(needle)
        size = len(self.vocab)
        if len(hits) < size:
            tail = (self.vocab[c] for c in range(len(hits), size))
            more = np.fromiter((needle in v.lower() for v in tail), bool, size - len(hits))
            hits = np.concatenate([hits, more])
        self._hits[needle] = hits  # most recently used last
        while len(self._hits) > CONTAINS_CACHE:
            self._hits.pop(next(iter(self._hits)))
        return hits

    def prepare_search(self) -> None:
        """Pack the vocabulary and lowercase it now (at load, off the request path)."""
        self.vocab.pack()
        self.vocab.lowered()


class TagColumn(_Growable):
    """One int32 code per row over the distinct tag sets (-1: no tags)."""

    def __init__(self, capacity: int) -> None:
        super().__init__(np.int32, -1, capacity)
        self.sets: list[tuple[str, ...]] = []
        self._index: dict[tuple[str, ...], int] = {}
        self._with_tag: dict[str, np.ndarray] = {}  # per tag: which sets hold it

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the per-tag cache (requests add to it from other threads)."""
        return {**self.__dict__, "_with_tag": {}}

    def code(self, tags: Any) -> int:
        new = tuple(dict.fromkeys(t for t in tags if isinstance(t, str))) if tags else ()
        if not new:
            return -1
        code = self._index.get(new)
        if code is None:
            code = self._index[new] = len(self.sets)
            self.sets.append(new)
        return code

    def set(self, row: int, tags: Any) -> None:
        self.data[row] = self.code(tags)

    def of(self, row: int) -> tuple[str, ...]:
        code = int(self.data[row])
        return self.sets[code] if code >= 0 else ()

    def _sets_with(self, tag: str) -> np.ndarray:
        """Which tag sets hold ``tag``; sets only ever get added, so extend the answer."""
        known = self._with_tag.get(tag, np.zeros(0, dtype=bool))
        if len(known) < len(self.sets):
            new = self.sets[len(known) :]
            known = np.concatenate([known, np.fromiter((tag in s for s in new), bool)])
            self._with_tag[tag] = known
        return known

    def any_of(self, tags: Iterable[str], n: int) -> np.ndarray:
        table = np.zeros(len(self.sets) + 1, dtype=bool)  # the extra slot: code -1
        for tag in tags:
            table[: len(self.sets)] |= self._sets_with(tag)
        return table[self.data[:n]]

    def exists(self, n: int) -> np.ndarray:
        return self.data[:n] >= 0


class Columns:
    """The read model. Not thread-safe: build it in one thread, then only touch it from
    one (the API's event loop)."""

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self.capacity = capacity
        self.ids = StringTable()  # a row's code in it is its row number
        self.numbers = {p: _Growable(np.float64, np.nan, capacity) for p in NUMBER_PATHS}
        self.dates = {p: _Growable(np.float64, np.nan, capacity) for p in DATE_PATHS}
        self.texts = {p: TextColumn(capacity) for p in TEXT_PATHS}
        self.tags = TagColumn(capacity)
        self.contactable = _Growable(np.bool_, False, capacity)
        self.listed = _Growable(np.bool_, False, capacity)
        self.versions = _Growable(np.int64, -1, capacity)
        self.capped = {ch: _Growable(np.float64, 0.0, capacity) for ch in CHANNELS}

    def _rows(self, customer_ids: Sequence[str]) -> np.ndarray:
        rows = self.ids.codes(customer_ids)
        self.n = len(self.ids)
        if self.n > self.capacity:
            while self.capacity < self.n:
                self.capacity *= 2
            for col in (
                *self.numbers.values(),
                *self.dates.values(),
                *self.texts.values(),
                self.tags,
                self.contactable,
                self.listed,
                self.versions,
                *self.capped.values(),
            ):
                col.grow(self.capacity)
        return rows

    def upsert(self, docs: Iterable[dict[str, Any]], batch: int = 10_000) -> int:
        """Insert or replace rows, column by column per batch (loads 1M rows in seconds)."""
        count = 0
        iterator = iter(docs)
        while chunk := list(itertools.islice(iterator, batch)):
            self._upsert_batch(chunk)
            count += len(chunk)
        return count

    def _upsert_batch(self, docs: list[dict[str, Any]]) -> None:
        rows = self._rows([d["_id"] for d in docs])
        for path, col in self.numbers.items():
            col.data[rows] = np.fromiter((_number(d.get(path)) for d in docs), np.float64)
        for path, col in self.dates.items():
            col.data[rows] = np.fromiter((_date_ms(d.get(path)) for d in docs), np.float64)
        for path, text in self.texts.items():
            text.set_rows(rows, [d.get(path) for d in docs])
        self.tags.data[rows] = np.fromiter((self.tags.code(d.get("tags")) for d in docs), np.int32)
        flags = (d.get("contactable") is True for d in docs)
        self.contactable.data[rows] = np.fromiter(flags, np.bool_)
        self.listed.data[rows] = np.fromiter(("placeholder" not in d for d in docs), np.bool_)
        self.versions.data[rows] = np.fromiter((version_of(d) for d in docs), np.int64)

    def apply(self, docs: Iterable[dict[str, Any]]) -> int:
        """Upsert the documents newer than their rows (notices may arrive out of order);
        returns how many were applied."""
        newest: dict[str, dict[str, Any]] = {}
        for doc in docs:
            seen = newest.get(doc["_id"])
            if seen is None or version_of(doc) > version_of(seen):
                newest[doc["_id"]] = doc
        fresh = []
        for cid, doc in newest.items():
            row = self.ids.find(cid)
            # an erased customer's blank row (version 0) gives way to any later write
            erased = doc.get("erased") is True
            if row is None or erased or version_of(doc) > self.versions.data[row]:
                fresh.append(doc)
        return self.upsert(fresh)

    def apply_caps(self, channel: str, capped: Iterable[tuple[str, int]]) -> int:
        """Customers at their frequency cap on ``channel`` until the given epoch ms; a
        later moment wins (notices may repeat or come late). Unknown ids are skipped."""
        column = self.capped.get(channel)
        if column is None:
            return 0
        applied = 0
        for cid, until_ms in capped:
            row = self.ids.find(cid)
            if row is not None and row < self.n:
                column.data[row] = max(float(column.data[row]), float(until_ms))
                applied += 1
        return applied

    def prepare(self) -> None:
        """Pack the row ids, build the text search structures (at load, off the request
        path)."""
        self.ids.pack()
        for text in self.texts.values():
            text.prepare_search()

    # -- queries -----------------------------------------------------------------------
    def audience(self, group: Group, now: datetime) -> np.ndarray:
        return evaluate(self, group, now) & self.contactable.data[: self.n]

    def sample(self, mask: np.ndarray, size: int, fields: Sequence[str]) -> list[dict[str, Any]]:
        """The first ``size`` selected rows, scanning the mask in blocks (not all of it)."""
        rows: list[int] = []
        for start in range(0, len(mask), 65_536):
            if len(rows) >= size:
                break
            found = np.flatnonzero(mask[start : start + 65_536])[: size - len(rows)]
            rows.extend(int(r) + start for r in found)
        return [self.row_view(r, fields) for r in rows]

    def row_view(self, row: int, fields: Sequence[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.ids[row]}
        for name in ("name", "email", *fields):
            spec = FIELDS[name]
            value: Any
            if spec.kind == "number":
                number = self.numbers[spec.path].data[row]
                value = None if np.isnan(number) else float(number)
                if value is not None and spec.path in INT_PATHS:
                    value = int(value)
            elif spec.kind == "date":
                ms = self.dates[spec.path].data[row]
                value = None if np.isnan(ms) else from_ms(float(ms))
            elif spec.kind == "text":
                value = self.texts[spec.path].value(row)
            else:
                value = list(self.tags.of(row)) or None
            out[name] = value
        return out


def evaluate(cols: Columns, group: Group, now: datetime) -> np.ndarray:
    """The rows selected by ``group`` (before the contactable exclusion)."""
    n = cols.n
    if not group.conditions:
        return np.ones(n, dtype=bool)
    masks = (
        evaluate(cols, c, now) if isinstance(c, Group) else _condition(cols, c, now)
        for c in group.conditions
    )
    result = next(masks)
    for mask in masks:
        result = (result & mask) if group.operator == "AND" else (result | mask)
    return result


_CMP = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}


def _condition(cols: Columns, cond: Condition, now: datetime) -> np.ndarray:
    n, spec, op, value = cols.n, cond.spec, cond.operator, cond.value
    if spec.kind == "list":
        if op == "exists":
            present = cols.tags.exists(n)
            return present if value else ~present
        return cols.tags.any_of([value] if op == "contains" else value, n)
    if spec.kind == "text":
        text = cols.texts[spec.path]
        if op == "exists":
            present = text.data[:n] >= 0
            return present if value else ~present
        if op == "contains":
            return text.contains(value, n)
        if op == "in":
            return text.equals_any(value, n)
        equal = text.equals_any([value], n)
        return ~equal if op == "!=" else equal
    if spec.kind == "number":
        data = cols.numbers[spec.path].data[:n]
        scalar: Any = value
    else:
        data = cols.dates[spec.path].data[:n]
        if op in ("inactive_days", "active_within_days"):
            cutoff = float(epoch_ms(now - timedelta(days=value)))
            if op == "active_within_days":
                return data >= cutoff
            return (data < cutoff) | np.isnan(data)
        scalar = float(epoch_ms(value)) if isinstance(value, datetime) else value
    if op == "exists":
        present = ~np.isnan(data)
        return present if value else ~present
    if op == "in":
        return np.isin(data, np.asarray(value, dtype=np.float64))
    if op == "=":
        return np.asarray(data == scalar)
    if op == "!=":
        return np.asarray(~(data == scalar))
    with np.errstate(invalid="ignore"):
        return np.asarray(_CMP[op](data, scalar))
