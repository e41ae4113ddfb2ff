"""The one door to the LLM: ask for JSON, validate it, or answer None.

Any failure (no key, timeout, HTTP error, invalid JSON, schema mismatch, a check the
caller adds) returns None so the caller uses its fallback; nothing here raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from openai import AsyncOpenAI
from pydantic import BaseModel, ValidationError

from libs.common.logging import get_logger
from services.ai.settings import AiSettings

log = get_logger(__name__)

M = TypeVar("M", bound=BaseModel)


class LlmClient:
    def __init__(self, settings: AiSettings) -> None:
        self.model = settings.openai_model
        self.timeout_s = settings.llm_timeout_s
        self._client: AsyncOpenAI | None = None
        if settings.llm_enabled:
            self._client = AsyncOpenAI(
                api_key=settings.openai_api_key,
                base_url=settings.openai_base_url or None,
                timeout=settings.llm_timeout_s,
                max_retries=0,
            )

    @property
    def enabled(self) -> bool:
        return self._client is not None

    async def ask(
        self,
        task: str,
        system: str,
        user: dict[str, Any],
        schema: type[M],
        check: Callable[[M], M] | None = None,
    ) -> M | None:
        """The validated answer, or None (and a log line saying why)."""
        if self._client is None:
            return None
        try:
            content = await asyncio.wait_for(self._complete(system, user), self.timeout_s + 1)
            answer = schema.model_validate(orjson.loads(content or ""))
            return check(answer) if check else answer
        except (orjson.JSONDecodeError, ValidationError, ValueError) as exc:
            log.warning("llm.rejected", task=task, reason="invalid answer", error=str(exc)[:300])
        except TimeoutError:
            log.warning("llm.rejected", task=task, reason="timeout")
        except Exception as exc:  # any client/transport error means: use the fallback
            log.warning("llm.rejected", task=task, reason=type(exc).__name__, error=str(exc)[:300])
        return None

    async def _complete(self, system: str, user: dict[str, Any]) -> str | None:
        assert self._client is not None
        response = await self._client.chat.completions.create(
            model=self.model,
            messages=[
                {"role": "system", "content": system},
                {"role": "user", "content": orjson.dumps(user).decode()},
            ],
            response_format={"type": "json_object"},
            temperature=0.2,
        )
        return response.choices[0].message.content

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
