"""Settings of the ai service (env prefix AI_; the OpenAI variables keep their usual names)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.common.settings import CommonSettings


class AiSettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="AI_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = 8005
    # Empty key: every feature answers from its deterministic fallback.
    openai_api_key: str = Field("", alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    openai_model: str = Field("gpt-4o-mini", alias="OPENAI_MODEL")
    llm_timeout_s: float = Field(8.0, alias="AI_LLM_TIMEOUT_S")
    # Below this many engagement events, optimal-timing answers the labelled default.
    timing_min_events: int = Field(50, alias="AI_TIMING_MIN_EVENTS")
    lookalike_max_size: int = Field(5000, alias="AI_LOOKALIKE_MAX_SIZE")
    worker_metrics_port: int = Field(0, alias="AI_WORKER_METRICS_PORT")

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_api_key.strip())
