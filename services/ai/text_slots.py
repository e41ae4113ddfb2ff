"""The slots of the phrase reader: each holds the conditions a phrase stood for and a
note saying how it was read; the text keeps a ``zz<n>zz`` token in its place."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from services.ai.text_facts import AudienceFacts
from services.ai.text_vocab import Rule


@dataclass
class Slots:
    facts: AudienceFacts
    items: list[tuple[list[Rule], list[str]]] = field(default_factory=list)
    sources: dict[int, str] = field(default_factory=dict)  # slot -> the words it replaced
    explicit_join: bool = False

    def add(self, conditions: list[Rule], note: str | None = None) -> str:
        self.items.append((conditions, [note] if note else []))
        return f" zz{len(self.items) - 1}zz "


Recogniser = Callable[[re.Match[str], Slots], str | None]


# -- numbers in notes ------------------------------------------------------------------
def amount(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def day(value: datetime) -> str:
    return f"{value.day} {value.strftime('%b %Y')}"


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
