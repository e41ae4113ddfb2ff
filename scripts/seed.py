"""Wait for every service, load sample data once through the API, print the URL.

Signs in through the development login (the local stack enables it), so the data goes
the way a client's would: gateway → ingest API → stream → ingest worker → database.
The 90 days of finished sample campaigns go through ``POST /api/campaigns/history``
(records of what was sent, not sends).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from libs.common.logging import configure_logging, get_logger  # noqa: E402
from scripts.sample_data import campaign_history, generate  # noqa: E402
from scripts.stack import StackLayout  # noqa: E402

log = get_logger("seed")
SEED = 42


def wait_ready(layout: StackLayout, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    pending = set(layout.ports)
    while pending and time.monotonic() < deadline:
        for service in sorted(pending):
            try:
                if httpx.get(f"{layout.url(service)}/readyz", timeout=2).status_code == 200:
                    pending.discard(service)
            except httpx.HTTPError:
                pass
        if pending:
            time.sleep(0.5)
    if pending:
        raise SystemExit(f"services not ready after {timeout}s: {sorted(pending)}")


def signed_in_client(base_url: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=60, headers={"Origin": base_url})
    response = client.post(
        "/auth/dev-login", json={"email": "dev@example.com", "name": "Developer"}
    )
    response.raise_for_status()
    return client


def post_in_batches(client: httpx.Client, path: str, key: str, items: list, size: int) -> None:
    for start in range(0, len(items), size):
        response = client.post(path, json={key: items[start : start + size]})
        if response.status_code != 202:
            raise SystemExit(f"{path} answered {response.status_code}: {response.text[:500]}")


def load_customers(client: httpx.Client, people: list, orders: list) -> None:
    stats = client.get("/api/customers/stats").json()
    if stats.get("customers", 0) > 0:
        log.info("seed.skipped", reason="data already loaded", customers=stats["customers"])
        return
    post_in_batches(client, "/api/customers/batch", "customers", people, 1000)
    post_in_batches(client, "/api/orders/batch", "orders", orders, 1000)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        stats = client.get("/api/customers/stats").json()
        if stats.get("customers", 0) >= len(people) and stats.get("orders", 0) >= len(orders):
            break
        time.sleep(1)
    log.info("seed.loaded", customers=stats.get("customers"), orders=stats.get("orders"))


def import_history(client: httpx.Client, campaigns: list) -> None:
    """Finished sample campaigns of the last 90 days; their ids are fixed, so a second
    run imports nothing (the campaign service keeps the first copy of each id)."""
    imported = existing = 0
    for start in range(0, len(campaigns), 500):
        response = client.post(
            "/api/campaigns/history", json={"campaigns": campaigns[start : start + 500]}
        )
        if response.status_code != 200:
            raise SystemExit(
                f"campaign history answered {response.status_code}: {response.text[:500]}"
            )
        imported += response.json()["imported"]
        existing += response.json()["existing"]
    log.info("seed.history", imported=imported, existing=existing)


def seed(base_url: str, customers: int) -> None:
    """Customers and orders once (skipped when any customer exists), then the campaign
    history (idempotent)."""
    client = signed_in_client(base_url)
    people, orders = generate(customers, seed=SEED)
    load_customers(client, people, orders)
    import_history(client, campaign_history(people, orders, seed=SEED))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--wait-forever", action="store_true")
    args = parser.parse_args()
    configure_logging("seed")
    layout = StackLayout()
    wait_ready(layout)
    url = layout.url("gateway")
    seed(url, args.customers)
    banner = f"Mini CRM is up: open {url}  (development sign-in enabled; Ctrl-C stops it)"
    sys.stdout.write(f"\n{'=' * len(banner)}\n{banner}\n{'=' * len(banner)}\n\n")
    sys.stdout.flush()
    while args.wait_forever:
        time.sleep(3600)


if __name__ == "__main__":
    main()
