"""Container health check: GET $HEALTHCHECK_URL (default http://127.0.0.1:$PORT/healthz).

Standard library only, so it runs in the slim image without curl. Exit 0 on a 2xx answer.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def target() -> str:
    explicit = os.environ.get("HEALTHCHECK_URL", "").strip()
    if explicit:
        return explicit
    return f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz"


def check(url: str, timeout_s: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


if __name__ == "__main__":
    url = target()
    healthy = check(url)
    if not healthy:
        sys.stderr.write(f"unhealthy: {url}\n")
    sys.exit(0 if healthy else 1)
