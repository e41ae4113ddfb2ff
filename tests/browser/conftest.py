"""Browser fixtures: Debian's chromium driven by the Python playwright package.

The stack under test is whatever answers at CRM_UI_URL (the gateway serving the built
UI). Otherwise the tests start the whole stack themselves on the session's Redis and
database (tests/support/stack.py); CRM_UI_START_STACK=0 skips them instead.
Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


DIST_INDEX = Path(__file__).resolve().parents[2] / "frontend" / "dist" / "index.html"


# The vendor fails messages only softly: no address is suppressed by a campaign, so the
# audiences the tests count keep their size (suppression is tested in tests/e2e).
UI_STACK_ENV = {"VENDOR_SOFT_FAILURES_ONLY": "true"}


@pytest.fixture(scope="session")
def ui_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    url = os.environ.get("CRM_UI_URL", "").rstrip("/")
    if url:
        yield url
        return
    if os.environ.get("CRM_UI_START_STACK", "1") == "0":
        pytest.skip("CRM_UI_START_STACK=0: set CRM_UI_URL to a running gateway to run these")
    if not DIST_INDEX.is_file():
        if os.environ.get("CI"):
            pytest.fail("frontend/dist is not built: `make test` builds it first")
        pytest.skip("frontend/dist is not built (make frontend)")
    from tests.support.stack import running_stack

    redis_url: str = request.getfixturevalue("redis_url")
    mongo_uri: str = request.getfixturevalue("mongo_uri")
    # Redis database 2: apart from tests that flush database 0 and the e2e stack's 1.
    stack_redis = redis_url.rsplit("/", 1)[0] + "/2"
    with running_stack(
        redis_url=stack_redis,
        mongo_uri=mongo_uri,
        db_prefix=f"ui{secrets.token_hex(3)}_",
        logdir=tmp_path_factory.mktemp("ui-stack-logs"),
        extra_env=UI_STACK_ENV,
    ) as stack:
        yield stack.url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is missing (pip install playwright)"
    )
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def marketer_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A stack of its own for the marketer-fix and accessibility tests (one for both
    files): its first sign-in, e2e@example.com, is the admin whatever ran before."""
    if not DIST_INDEX.is_file():
        pytest.skip("frontend/dist is not built (make frontend)")
    import redis

    from tests.support.stack import running_stack

    redis_url: str = request.getfixturevalue("redis_url")
    mongo_uri: str = request.getfixturevalue("mongo_uri")
    stack_redis = redis_url.rsplit("/", 1)[0] + "/14"  # its own (13: the consent stack)
    redis.Redis.from_url(stack_redis).flushdb()
    with running_stack(
        redis_url=stack_redis,
        mongo_uri=mongo_uri,
        db_prefix=f"uimkt{secrets.token_hex(3)}_",
        logdir=tmp_path_factory.mktemp("ui-marketer-logs"),
        extra_env=UI_STACK_ENV,
    ) as stack:
        yield stack
