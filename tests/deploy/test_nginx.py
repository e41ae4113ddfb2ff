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
from contextlib import contextmanager
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
    tls_url: str | None = None


def enable_tls(text: str, certs: Path) -> str:
    """What docs/operations.md tells an operator to do: uncomment the TLS server block and
    swap the plain-HTTP locations for the redirect."""
    start = text.index("    # server {\n    #     listen 443")
    end = text.index("    # }\n", start) + len("    # }\n")
    block = "".join(line.replace("    # ", "    ", 1) for line in text[start:end].splitlines(True))
    text = text[:start] + block.replace("/etc/nginx/certs", str(certs)) + text[end:]
    redirect = (
        '        # location = /nginx-health { access_log off; return 200 "ok\\n"; }\n'
        "        # location / { return 301 https://$host$request_uri; }\n"
        "        include /etc/nginx/crm-locations.conf;"
    )
    assert redirect in text, "the documented redirect lines moved"
    return text.replace(redirect, redirect.replace("# ", "").rsplit("\n", 1)[0])


def self_signed(folder: Path) -> Path:
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "crm.example.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    folder.mkdir()
    (folder / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder


def adapted_config(
    tmp: Path, listen: int, listen_tls: int | None, upstream: int, version: tuple[int, ...]
) -> Path:
    locations = tmp / "crm-locations.conf"
    shutil.copy(NGINX_DIR / "crm-locations.conf", locations)
    text = (NGINX_DIR / "nginx.conf").read_text()
    if listen_tls is not None:
        text = enable_tls(text, self_signed(tmp / "certs"))
        text = text.replace("listen 443 ssl;", f"listen 127.0.0.1:{listen_tls} ssl;")
    text = text.replace("server gateway:8000", f"server 127.0.0.1:{upstream}")
    text = text.replace("listen 80 default_server;", f"listen 127.0.0.1:{listen};")
    text = text.replace("/etc/nginx/crm-locations.conf", str(locations))
    text = text.replace("pid /tmp/nginx.pid;", f"pid {tmp / 'nginx.pid'};")
    if version < (1, 27, 3):  # `resolve` in an upstream came to open-source nginx then
        text = text.replace(" resolve max_fails", " max_fails")
    if version < (1, 25, 1):  # `http2 on;` replaced `listen ... http2` then
        text = text.replace("http2 on;", "")
    config = tmp / "nginx.conf"
    config.write_text(text)
    return config


@contextmanager
def running_nginx(tmp_path: Path, *, tls: bool) -> Iterator[Proxy]:
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        pytest.skip("nginx is not installed: deploy/nginx is checked structurally only")
    upstream = Upstream()
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    listen, listen_tls = free_port(), (free_port() if tls else None)
    config = adapted_config(
        tmp_path, listen, listen_tls, upstream.server_address[1], nginx_version(binary)
    )
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
        tls_url = f"https://127.0.0.1:{listen_tls}" if listen_tls else None
        yield Proxy(url, upstream, tls_url)
    finally:
        upstream.release.set()
        proc.terminate()
        proc.wait(timeout=10)
        upstream.shutdown()
        upstream.server_close()


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Proxy]:
    with running_nginx(tmp_path, tls=False) as running:
        yield running


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


def test_enabling_tls_as_documented_serves_https_and_redirects_http(tmp_path: Path) -> None:
    with running_nginx(tmp_path, tls=True) as proxy:
        assert proxy.tls_url
        plain = httpx.get(f"{proxy.url}/api/customers", headers={"host": "crm.example.com"})
        assert plain.status_code == 301
        assert plain.headers["location"] == "https://crm.example.com/api/customers"
        assert httpx.get(f"{proxy.url}/nginx-health").status_code == 200
        secure = httpx.get(
            f"{proxy.tls_url}/api/customers",
            headers={"host": "crm.example.com"},
            verify=False,  # the test's own self-signed certificate
            timeout=5,
        )
        assert secure.status_code == 200
        assert secure.headers["strict-transport-security"].startswith("max-age=")
        (seen,) = proxy.upstream.seen
        assert seen["X-Forwarded-Proto"] == "https"
