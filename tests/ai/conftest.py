"""Fixtures of the AI tests: a local OpenAI-compatible server and the AI app/store."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn
from ai_fakes import FakeLlm, Reply, fake_llm_app
from fastapi.testclient import TestClient

from libs.common.mongo import make_client
from libs.common.testing.servers import free_port
from services.ai.app import create_app
from services.ai.settings import AiSettings
from services.ai.store import AiStore


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeLlm]:
    port = free_port()
    state = FakeLlm(url=f"http://127.0.0.1:{port}/v1")
    config = uvicorn.Config(
        fake_llm_app(state), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "fake LLM server did not start"
    yield state
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def llm(fake_llm: FakeLlm) -> Iterator[FakeLlm]:
    fake_llm.requests.clear()
    yield fake_llm
    fake_llm.reply = lambda _body: Reply()


def ai_settings(**overrides: Any) -> AiSettings:
    return AiSettings(**overrides)


@pytest.fixture
def make_ai_client(clean_env: Any) -> Iterator[Callable[..., TestClient]]:
    """TestClient of the AI app (lifespan run) with settings overrides."""
    clients: list[TestClient] = []

    def _make(**overrides: Any) -> TestClient:
        client = TestClient(create_app(ai_settings(**overrides)))
        client.__enter__()
        client.headers["x-internal-token"] = clean_env.internal_token
        clients.append(client)
        return client

    yield _make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def ai_store(clean_env: Any) -> Iterator[AiStore]:
    client = make_client(clean_env.mongo_uri)
    store = AiStore(client[f"{clean_env.db_prefix}ai"])
    store.ensure_indexes()
    yield store
    client.close()
