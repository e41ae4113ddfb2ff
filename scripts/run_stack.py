"""`make run`: Redis, the database, every service and worker, sample data, the UI URL.

Starts redis-server and the embedded MongoDB-wire server only when nothing answers on
REDIS_URL / MONGODB_URI; Ctrl-C stops everything this started and nothing else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from honcho.manager import Manager  # noqa: E402
from honcho.printer import Printer  # noqa: E402

from libs.common.settings import CommonSettings  # noqa: E402
from scripts.local_secrets import stack_secrets  # noqa: E402
from scripts.stack import StackLayout  # noqa: E402

DATA = ROOT / ".data"


def _redis_answers(url: str) -> bool:
    from libs.common.redis_client import make_redis

    try:
        return bool(make_redis(url).ping())
    except Exception:
        return False


def _mongo_answers(uri: str) -> bool:
    from libs.common.mongo import make_client, ping

    client = make_client(uri, timeout_ms=1000)
    try:
        return ping(client)
    finally:
        client.close()


def main() -> None:
    os.chdir(ROOT)
    DATA.mkdir(exist_ok=True)
    settings = CommonSettings()
    layout = StackLayout()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AUTH_DEV_LOGIN": os.environ.get("AUTH_DEV_LOGIN", "true"),
        # the audience read model restarts from its snapshot (services/ingest/README.md)
        "INGEST_SNAPSHOT_DIR": os.environ.get("INGEST_SNAPSHOT_DIR", str(DATA / "snapshots")),
        "REDIS_URL": settings.redis_url,
        "MONGODB_URI": settings.mongodb_uri,
        **layout.wiring_env(),
        **stack_secrets(DATA / "secrets.env", dict(os.environ)),
    }
    manager = Manager(Printer(sys.stdout))
    if not _redis_answers(settings.redis_url):
        if not shutil.which("redis-server"):
            sys.exit("redis-server is missing: run `make system-deps` (as root) or install it")
        port = urlparse(settings.redis_url).port or 6379
        (DATA / "redis").mkdir(parents=True, exist_ok=True)
        manager.add_process(
            "redis",
            f"redis-server --port {port} --bind 127.0.0.1 --appendonly yes --dir {DATA / 'redis'}",
        )
    if not _mongo_answers(settings.mongodb_uri):
        port = urlparse(settings.mongodb_uri).port or 27017
        nx = Path(sys.executable).parent / "nx-27017"
        manager.add_process(
            "mongodb",
            f"{nx} --data-dir {DATA / 'mongo'} -p {port} --log-file {DATA / 'nx.log'} "
            f"--pid-file {DATA / 'nx.pid'}",
        )
    for proc in layout.processes():
        manager.add_process(proc.name, subprocess.list2cmdline(proc.argv), env=env)
    manager.add_process(
        "seed",
        subprocess.list2cmdline([sys.executable, "scripts/seed.py", "--wait-forever"]),
        env=env,
    )
    manager.loop()
    sys.exit(manager.returncode)


if __name__ == "__main__":
    main()
