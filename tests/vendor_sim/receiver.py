"""A real HTTP server standing in for a webhook receiver in tests: records every POST
(headers + raw body) and can refuse the first ``fail_first`` requests with a 503."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass
class Received:
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    refused: int = 0
    fail_first: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def receipts(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for _, body in self.posts for r in orjson.loads(body)["receipts"]]


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, Received]]:
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with received.lock:
                refuse = received.refused < received.fail_first
                if refuse:
                    received.refused += 1
                else:
                    received.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(503 if refuse else 202)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()
