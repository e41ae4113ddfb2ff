"""The built web UI at /, with single-page-app fallback to index.html."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from libs.common.errors import NotFound

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mini CRM</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>Mini CRM</h1>
<p>The web UI is not built yet. Run <code>make frontend</code> and reload.</p>
<p>The API is up: see <a href="/api/docs">/api/docs</a>.</p>
</body></html>
"""
_RESERVED = ("api", "auth", "healthz", "readyz", "metrics")


def resolve(dist: Path, path: str) -> Path | None:
    """The file for a URL path inside dist, refusing anything that escapes it."""
    if not path:
        return None
    root = dist.resolve()
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def frontend_router(dist: Path) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/{path:path}")
    async def ui(path: str, request: Request) -> Response:
        if path.split("/", 1)[0] in _RESERVED:
            raise NotFound(f"nothing at /{path}")
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT)
        found = resolve(dist, path)
        if found is not None:
            immutable = path.startswith("assets/")
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(found, headers={"cache-control": cache})
        return FileResponse(index, headers={"cache-control": "no-cache"})

    return router
