"""A real HTTP server for gateway tests: an ASGI app served by uvicorn in a thread."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from libs.common.testing.servers import free_port


class Served:
    """An ASGI app on a free port, served by uvicorn in a thread."""

    def __init__(self, app: Any, **config: Any) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", **config)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
