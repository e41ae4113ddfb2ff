"""The sign-in rate limit cannot be dodged by sending a fresh X-Forwarded-For: the
gateway started exactly as `make run` and the images start it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from scripts.stack import StackLayout
from services.gateway.app import create_app
from services.gateway.forwarded import client_from
from tests.gateway.served import Served

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _stack_trusts_proxy_headers() -> bool:
    """How scripts/stack.py starts the gateway's uvicorn (its default trusts
    X-Forwarded-For from 127.0.0.1, where every local client is)."""
    [gateway] = [p for p in StackLayout().processes() if p.name == "gateway-api"]
    return "--no-proxy-headers" not in gateway.argv


@pytest.mark.parametrize("hops", [0, 1])
def test_rotating_x_forwarded_for_still_meets_the_sign_in_limit(make_settings, hops):
    settings = make_settings(rate_limit_auth_per_min=5, trusted_proxy_hops=hops)
    served = Served(create_app(settings), proxy_headers=_stack_trusts_proxy_headers())
    try:
        statuses = []
        with httpx.Client(base_url=served.url, timeout=10) as http:
            for n in range(12):
                spoofed = f"203.0.113.{n}"
                # Behind one proxy, the proxy appends the address it saw (here always
                # the same client); whatever the client wrote stays to its left.
                forwarded = spoofed if hops == 0 else f"{spoofed}, 198.51.100.7"
                response = http.post(
                    "/auth/dev-login", json={}, headers={"X-Forwarded-For": forwarded}
                )
                statuses.append(response.status_code)
        assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}, statuses
    finally:
        served.stop()


def test_the_client_is_the_address_the_outermost_trusted_proxy_saw():
    assert client_from("1.1.1.1, 2.2.2.2, 3.3.3.3", 1) == "3.3.3.3"
    assert client_from("1.1.1.1, 2.2.2.2, 3.3.3.3", 2) == "2.2.2.2"
    assert client_from("3.3.3.3", 2) is None  # did not pass both proxies
    assert client_from("1.1.1.1", 0) is None


def test_images_run_the_gateway_without_uvicorns_proxy_header_trust():
    entrypoint = (ROOT / "deploy" / "docker-entrypoint.sh").read_text()
    gateway_branch = entrypoint.split('if [ "$SERVICE" = "gateway" ]; then', 1)[1]
    assert gateway_branch.split("else", 1)[0].strip() == 'proxy_flags="--no-proxy-headers"'
    assert '"${FORWARDED_ALLOW_IPS:-*}"' not in entrypoint
