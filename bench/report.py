"""Figures, the printed table and bench/results.json."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

RESULTS = Path(__file__).resolve().parent / "results.json"

# Every key the issue requires in results.json (numbers only; null when not measured).
REQUIRED_KEYS = (
    "ingest_accept_records_per_s",
    "redis_raw_xadd_per_s",
    "ingest_e2e_records_per_s",
    "db_raw_upsert_per_s",
    "preview_1m_p50_ms",
    "preview_1m_p95_ms",
    "preview_1m_p99_ms",
    "preview_1m_cold_ms",
    "campaign_1m_messages_per_s",
    "campaign_1m_seconds",
    "db_raw_comm_rows_per_s",
    "campaign_100k_single_messages_per_s",
    "single_post_p50_ms",
    "single_post_p99_ms",
    "stack_peak_rss_mb",
    "cluster_campaign_messages_per_s",
)


@dataclass
class Figure:
    key: str
    value: float | None
    unit: str
    method: str
    target: str = ""


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def print_table(figures: list[Figure], out: Any = None) -> None:
    """One line per figure: key, value, unit, target, and how it was measured.

    Written to stderr-free stdout on purpose: it is the harness's output, not a log.
    """
    out = out or sys.stdout
    width = max((len(f.key) for f in figures), default=10)
    out.write(f"\n{'figure':<{width}}  {'value':>12}  {'unit':<11} {'target':<18} method\n")
    out.write("-" * (width + 60) + "\n")
    for f in figures:
        out.write(
            f"{f.key:<{width}}  {_fmt(f.value):>12}  {f.unit:<11} {f.target:<18} {f.method}\n"
        )
    out.flush()


def write_results(
    figures: list[Figure], machine: dict[str, Any], mode: str, path: Path = RESULTS
) -> dict[str, Any]:
    values: dict[str, float | None] = dict.fromkeys(REQUIRED_KEYS)
    for f in figures:
        values[f.key] = None if f.value is None else round(float(f.value), 3)
    doc = {
        **values,
        "mode": mode,
        "machine": machine,
        "methods": {f.key: f.method for f in figures},
    }
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    return doc


TARGETS = {
    "ingest_accept_records_per_s": ">= 100,000",
    "ingest_e2e_vs_raw_upsert": ">= 0.8",
    "preview_1m_p95_ms": "<= 50",
    "preview_1m_p99_ms": "<= 100",
    "campaign_1m_messages_per_s": ">= 10,000 (or 0.8 of raw)",
    "campaign_1m_seconds": "<= 100",
    "campaign_vs_raw_comm_rows": ">= 0.8 (or 10k/s)",
    "cluster_vs_single_campaign": ">= 0.8",
    "single_post_p99_ms": "<= 10",
    "stack_peak_rss_mb": "<= 2,048",
}


def markdown_table(doc: dict[str, Any]) -> str:
    """The figures of a results file as a markdown table (for docs/performance.md)."""
    methods: dict[str, str] = doc.get("methods", {})
    keys = [*methods] + [k for k in REQUIRED_KEYS if k not in methods]
    lines = ["| figure | value | target | method |", "|---|---:|---|---|"]
    for key in keys:
        value = doc.get(key)
        shown = _fmt(value) if isinstance(value, int | float) else "not measured"
        method = methods.get(key, "").replace("|", "/")
        lines.append(f"| `{key}` | {shown} | {TARGETS.get(key, '')} | {method} |")
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    sys.stdout.write(markdown_table(orjson.loads(path.read_bytes())) + "\n")
