"""One OpenAPI document for the whole API: the gateway's own routes plus every service's
/openapi.json, fetched with the internal token. A service that is down is left out and
named in the description."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from libs.common.logging import get_logger

log = get_logger(__name__)
_REF = "#/components/schemas/"


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_REF):
                name = value[len(_REF) :]
                out[key] = _REF + renames.get(name, name)
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


def _api_paths(doc: dict[str, Any]) -> dict[str, Any]:
    return {p: v for p, v in doc.get("paths", {}).items() if p.startswith(("/api", "/auth"))}


def merge_openapi(
    gateway: dict[str, Any], services: dict[str, dict[str, Any]], missing: dict[str, str]
) -> dict[str, Any]:
    """Merge paths and schemas; a schema name two services use differently is prefixed
    with the service name (and its references rewritten) so neither is lost."""
    schemas: dict[str, Any] = dict(gateway.get("components", {}).get("schemas", {}))
    paths: dict[str, Any] = _api_paths(gateway)
    for service, doc in services.items():
        own = doc.get("components", {}).get("schemas", {})
        renames = {
            name: f"{service}_{name}"
            for name, schema in own.items()
            if name in schemas
            and json.dumps(schemas[name], sort_keys=True) != json.dumps(schema, sort_keys=True)
        }
        doc = _rename_refs(doc, renames)
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = schema
        for path, operations in _api_paths(doc).items():
            tagged = {
                method: {**op, "tags": op.get("tags") or [service]} if isinstance(op, dict) else op
                for method, op in operations.items()
            }
            paths.setdefault(path, {}).update(tagged)
    description = "Every route of Mini CRM, through the gateway."
    if missing:
        names = ", ".join(f"{s} ({why})" for s, why in sorted(missing.items()))
        description += f"\n\nNot included (service unavailable): {names}."
    return {
        "openapi": gateway.get("openapi", "3.1.0"),
        "info": {"title": "Mini CRM API", "version": "1", "description": description},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "mcrm_session"},
            },
        },
        "security": [{"apiKey": []}, {"session": []}],
    }


async def fetch_service_docs(
    client: httpx.AsyncClient, upstreams: dict[str, str], internal_token: str
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    async def one(service: str, base: str) -> tuple[str, dict[str, Any] | str]:
        try:
            response = await client.get(
                f"{base}/openapi.json",
                headers={"x-internal-token": internal_token},
                timeout=3.0,
            )
            response.raise_for_status()
            return service, response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.info("docs.service_skipped", service=service, error=type(exc).__name__)
            return service, type(exc).__name__

    results = await asyncio.gather(*(one(s, b) for s, b in upstreams.items()))
    docs = {s: r for s, r in results if isinstance(r, dict)}
    missing = {s: r for s, r in results if isinstance(r, str)}
    return docs, missing
