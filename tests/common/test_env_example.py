"""`.env.example` lists every variable the settings classes read."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.env_example import render, variables

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_variable_with_its_default():
    committed = (ROOT / ".env.example").read_text()
    missing = [name for _, name, _ in variables() if f"\n{name}=" not in committed]
    assert not missing, f"missing from .env.example: {missing}"
    assert committed == render(), "run: python scripts/env_example.py > .env.example"
