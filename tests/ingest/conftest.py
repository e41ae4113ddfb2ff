"""Ingest test fixtures: the API in-process, worker dependencies, and helpers to run
the worker's consumers until the streams are drained."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from libs.common.testing.pytest_plugin import CleanEnv
from services.ingest.app import create_app
from services.ingest.handlers import Deps
from services.ingest.settings import IngestSettings
from services.ingest.worker import build_consumer, build_deps


@pytest.fixture
def settings(clean_env: CleanEnv) -> IngestSettings:
    return IngestSettings()


@pytest.fixture
def make_api(clean_env: CleanEnv) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def _make(**overrides: Any) -> TestClient:
        app = create_app(IngestSettings(**overrides))
        client = TestClient(app, headers={"x-internal-token": clean_env.internal_token})
        client.__enter__()
        clients.append(client)
        return client

    yield _make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_api: Callable[..., TestClient]) -> TestClient:
    """The API without the columnar read model: previews come from the database."""
    return make_api(columns_enabled=False)


@pytest.fixture
def deps(settings: IngestSettings) -> Iterator[Deps]:
    built = build_deps(settings)
    yield built
    built.redis.close()


@pytest.fixture
def drain(deps: Deps) -> Callable[[str], int]:
    """Run a worker group's consumer until its stream has nothing left."""

    def _drain(group: str = "ingest") -> int:
        return build_consumer(group, deps).run(burst=True)

    return _drain
