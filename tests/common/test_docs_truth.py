"""docs/architecture.md names only things that exist: files, modules, streams, consumer
groups, event types; and its streams table names every group and entry type there is.

A newcomer trusts the architecture page; when code moves or a stream is renamed, this
test fails until the page is corrected.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from libs.common.events import EVENT_TYPES
from libs.common.streams.names import ALL_STREAMS
from tests.common.test_handler_registry import REGISTRIES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "architecture.md", ROOT / "README.md"]
TICKED = re.compile(r"`([^`\n]+)`")
EVENT_TYPE = re.compile(r"^[a-z_]+(?:\.[a-z_]+)+\.v\d+$")
MODULE = re.compile(r"^(?:services|libs)(?:\.[a-z_0-9]+)+$")
PATH = re.compile(r"^(?:services|libs|tests|scripts|docs|deploy|bench|frontend)/[\w./-]*$")
STREAM_ROW = re.compile(r"^\| `([^`]+)` \|", re.MULTILINE)
LINK = re.compile(r"\]\(([^)#]+)(?:#[^)]*)?\)")


def ticked(doc: Path) -> list[str]:
    return TICKED.findall(doc.read_text())


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_named_path_exists(doc: Path) -> None:
    missing = [t for t in ticked(doc) if PATH.match(t) and not (ROOT / t).exists()]
    assert not missing, f"{doc.name} names paths that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_link_stays_in_the_repository_and_exists(doc: Path) -> None:
    bad = []
    for target in LINK.findall(doc.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        resolved = (doc.parent / target).resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            bad.append(target)
    assert not bad, f"{doc.name} links outside the repository or to nothing: {bad}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_no_named_path_points_outside_the_repository(doc: Path) -> None:
    outside = [t for t in ticked(doc) if t.startswith("../")]
    assert not outside, f"{doc.name} names paths outside the repository: {outside}"


def test_every_named_module_exists() -> None:
    missing = []
    for token in ticked(ROOT / "docs" / "architecture.md"):
        name = token.split("(")[0].split()[0] if token.strip() else token
        if not MODULE.match(name):
            continue
        if not _importable(name):
            missing.append(name)
    assert not missing, f"architecture.md names modules that do not exist: {missing}"


def test_every_named_event_type_is_registered() -> None:
    unknown = [
        t
        for t in ticked(ROOT / "docs" / "architecture.md")
        if EVENT_TYPE.match(t) and t not in EVENT_TYPES
    ]
    assert not unknown, f"architecture.md names unregistered event types: {unknown}"


def test_every_stream_in_the_table_exists_and_every_stream_is_in_it() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    table = text.split("## Streams", 1)[1].split("\n## ", 1)[0]
    rows = set(STREAM_ROW.findall(table))
    private = {"ingest.changes", "<stream>.dlq"}
    assert rows - private <= set(ALL_STREAMS), rows - private - set(ALL_STREAMS)
    assert set(ALL_STREAMS) <= rows, set(ALL_STREAMS) - rows


def _stream_rows() -> dict[str, list[str]]:
    """The streams table: stream -> its cells (producers, groups, entry types)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    table = text.split("## Streams", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        name = TICKED.findall(cells[0]) if cells else []
        if len(cells) >= 4 and name and name[0] in ALL_STREAMS:
            rows[name[0]] = cells
    return rows


def test_every_stream_row_names_exactly_the_groups_that_read_it() -> None:
    registered: dict[str, set[str]] = {}
    for registry in REGISTRIES:
        registered.setdefault(registry.stream, set()).add(registry.group)
    named = {stream: set(TICKED.findall(cells[2])) for stream, cells in _stream_rows().items()}
    assert named == registered


def test_every_stream_row_names_exactly_the_entry_types_on_it() -> None:
    on_stream: dict[str, set[str]] = {}
    for event in EVENT_TYPES.values():
        if event.__module__.startswith("libs.common.events"):  # not the tests' own types
            on_stream.setdefault(event.STREAM, set()).add(event.TYPE)
    named = {
        stream: {t for t in TICKED.findall(cells[3]) if EVENT_TYPE.match(t)}
        for stream, cells in _stream_rows().items()
    }
    assert named == on_stream


def _importable(dotted: str) -> bool:
    """A module, or an attribute of one (``libs.common.web.create_service_app``)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 1, -1):
        module = ".".join(parts[:cut])
        try:
            spec = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            continue
        if spec is None:
            continue
        if cut == len(parts):
            return True
        loaded = importlib.import_module(module)
        target: object = loaded
        for attr in parts[cut:]:
            if not hasattr(target, attr):
                return False
            target = getattr(target, attr)
        return True
    return False
