"""`make run` gives the local stack random secrets of its own, kept out of git."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from libs.common.settings import DEV_INTERNAL_TOKEN
from scripts.local_secrets import NAMES, ensure_local_secrets, stack_secrets
from services.delivery.settings import DEV_WEBHOOK_SECRET
from services.gateway.settings import DEV_SESSION_SECRET

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_first_start_generates_random_secrets_kept_private_and_reused(tmp_path):
    path = tmp_path / ".data" / "secrets.env"
    first = ensure_local_secrets(path)
    assert set(first) == set(NAMES)
    assert not {DEV_INTERNAL_TOKEN, DEV_SESSION_SECRET, DEV_WEBHOOK_SECRET} & set(first.values())
    assert len(set(first.values())) == 3 and all(len(v) >= 40 for v in first.values())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_local_secrets(path) == first  # sessions survive a restart
    other = ensure_local_secrets(tmp_path / "elsewhere.env")
    assert not set(other.values()) & set(first.values())


def test_a_secret_set_in_the_environment_wins_and_a_lost_one_is_regenerated(tmp_path):
    path = tmp_path / "secrets.env"
    generated = ensure_local_secrets(path)
    chosen = stack_secrets(path, {"INTERNAL_TOKEN": "mine"})
    assert chosen["INTERNAL_TOKEN"] == "mine"
    assert chosen["GATEWAY_SESSION_SECRET"] == generated["GATEWAY_SESSION_SECRET"]
    path.write_text(f"INTERNAL_TOKEN={generated['INTERNAL_TOKEN']}\n")
    again = ensure_local_secrets(path)
    assert again["INTERNAL_TOKEN"] == generated["INTERNAL_TOKEN"]
    assert again["VENDOR_WEBHOOK_SECRET"] != generated["VENDOR_WEBHOOK_SECRET"]


def test_the_run_script_uses_the_generated_secrets_file_which_git_ignores():
    script = (ROOT / "scripts" / "run_stack.py").read_text()
    assert 'stack_secrets(DATA / "secrets.env"' in script
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".data/secrets.env"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0
