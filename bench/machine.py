"""What the figures were measured on: written beside them in bench/results.json."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import pymongo
import redis


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_mb() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def describe(redis_url: str, mongo_uri: str) -> dict[str, Any]:
    mongo: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        mongo_uri, serverSelectionTimeoutMS=5000
    )
    try:
        info = mongo.server_info()
    finally:
        mongo.close()
    nx = _package_version("nx-27017")
    r = redis.Redis.from_url(redis_url)
    try:
        redis_version = str(r.info("server").get("redis_version"))
    finally:
        r.close()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "memory_mb": _memory_mb(),
        "cpu_model": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "db_server": f"nx-27017 {nx}" if nx else "mongod",
        "db_servers": "two processes: delivery's collections on one (DELIVERY_MONGODB_URI), "
        "every other service's on the other; the journeys phase starts a third for the "
        "campaign service's (CAMPAIGN_MONGODB_URI)",
        "db_server_reported_version": str(info.get("version")),
        "redis_server": f"redis {redis_version}",
        "hiredis": _package_version("hiredis"),
        "git_commit": _git_commit(),
        # the machine may be shared: other load skews every figure
        "loadavg_at_start": list(os.getloadavg()),
    }
