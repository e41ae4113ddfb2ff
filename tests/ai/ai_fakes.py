"""A local OpenAI-compatible server for the AI tests (POST /v1/chat/completions)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class Reply:
    content: str = "{}"
    status: int = 200
    delay_s: float = 0.0


@dataclass
class FakeLlm:
    """POST /v1/chat/completions answering whatever ``reply`` says; records requests."""

    url: str
    reply: Callable[[dict[str, Any]], Reply] = field(default=lambda _body: Reply())
    requests: list[dict[str, Any]] = field(default_factory=list)


def fake_llm_app(state: FakeLlm) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> JSONResponse:
        body = await request.json()
        state.requests.append(body)
        reply = state.reply(body)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status != 200:
            return JSONResponse({"error": {"message": "boom"}}, status_code=reply.status)
        return JSONResponse(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "test"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    return app
