"""deploy/nginx run for real in front of a stand-in gateway, when an nginx binary is
installed (skipped otherwise, with the reason). The config is used as shipped except for
the addresses (the gateway's, the listen port) and directives this nginx is too old for."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.deploy.manifests import ROOT

pytestmark = pytest.mark.integration

NGINX_DIR = ROOT / "deploy" / "nginx"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nginx_version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10).stderr
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in match.groups()) if match else (0, 0, 0)


class Upstream(ThreadingHTTPServer):
    """Stands in for the gateway: records what nginx forwards, holds an SSE stream open."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _UpstreamHandler)
        self.release = threading.Event()
        self.seen: list[dict[str, str]] = []


class _UpstreamHandler(BaseHTTPRequestHandler):
    server: Upstream

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.seen.append({"path": self.path, **{k: v for k, v in self.headers.items()}})
        if self.path.endswith("/events"):
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b'event: stats\ndata: {"sent": 1}\n\n')
            self.wfile.flush()
            self.server.release.wait(timeout=10)
            self.wfile.write(b'event: stats\ndata: {"sent": 2}\n\n')
            self.wfile.flush()
            return
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@dataclass
class Proxy:
    url: str
    upstream: Upstream


def adapted_config(tmp: Path, listen: int, upstream: int, version: tuple[int, ...]) -> Path:
    locations = tmp / "crm-locations.conf"
    shutil.copy(NGINX_DIR / "crm-locations.conf", locations)
    text = (NGINX_DIR / "nginx.conf").read_text()
    text = text.replace("server gateway:8000", f"server 127.0.0.1:{upstream}")
    text = text.replace("listen 80 default_server;", f"listen 127.0.0.1:{listen};")
    text = text.replace("/etc/nginx/crm-locations.conf", str(locations))
    text = text.replace("pid /tmp/nginx.pid;", f"pid {tmp / 'nginx.pid'};")
    if version < (1, 27, 3):  # `resolve` in an upstream came to open-source nginx then
        text = text.replace(" resolve max_fails", " max_fails")
    config = tmp / "nginx.conf"
    config.write_text(text)
    return config


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Proxy]:
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        pytest.skip("nginx is not installed: deploy/nginx is checked structurally only")
    upstream = Upstream()
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    listen = free_port()
    config = adapted_config(tmp_path, listen, upstream.server_address[1], nginx_version(binary))
    check = subprocess.run(
        [binary, "-t", "-p", str(tmp_path), "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(
        [binary, "-p", str(tmp_path), "-c", str(config), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{listen}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"{url}/nginx-health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        yield Proxy(url, upstream)
    finally:
        upstream.release.set()
        proc.terminate()
        proc.wait(timeout=10)
        upstream.shutdown()
        upstream.server_close()


def test_nginx_answers_its_own_health_check_without_the_gateway(proxy: Proxy) -> None:
    response = httpx.get(f"{proxy.url}/nginx-health", timeout=5)
    assert response.status_code == 200 and response.text == "ok\n"
    assert proxy.upstream.seen == []


def test_nginx_forwards_requests_with_the_clients_host_and_scheme(proxy: Proxy) -> None:
    response = httpx.get(
        f"{proxy.url}/api/customers?page=2", headers={"host": "crm.example.com"}, timeout=5
    )
    assert response.status_code == 200 and response.json() == {"ok": True}
    (seen,) = proxy.upstream.seen
    assert seen["path"] == "/api/customers?page=2"
    assert seen["Host"] == "crm.example.com"
    assert seen["X-Forwarded-Proto"] == "http"
    assert seen["X-Forwarded-For"] == "127.0.0.1"


def test_nginx_keeps_metrics_internal(proxy: Proxy) -> None:
    assert httpx.get(f"{proxy.url}/metrics", timeout=5).status_code == 404
    assert proxy.upstream.seen == []


def test_nginx_refuses_bodies_over_the_gateways_limit(proxy: Proxy) -> None:
    with socket.create_connection(("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]))) as sock:
        sock.sendall(
            b"POST /api/customers/import HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 27000000\r\nContent-Type: text/csv\r\n\r\n"
        )
        status_line = sock.recv(200).split(b"\r\n", 1)[0]
    assert b" 413 " in status_line


def test_campaign_events_stream_through_nginx_before_the_upstream_finishes(
    proxy: Proxy,
) -> None:
    """The first server-sent event arrives while the gateway still holds the stream open:
    nothing buffers it."""
    with httpx.stream("GET", f"{proxy.url}/api/campaigns/c1/events", timeout=5) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["x-accel-buffering"] == "no"
        chunks = response.iter_raw()
        started = time.monotonic()
        first = next(chunks)
        assert b'data: {"sent": 1}' in first
        assert time.monotonic() - started < 3, "the first event waited for the second"
        assert not proxy.upstream.release.is_set()
        proxy.upstream.release.set()
        rest = b"".join(chunks)
    assert b'data: {"sent": 2}' in first + rest
