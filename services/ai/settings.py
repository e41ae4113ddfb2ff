"""Settings of the ai service (env prefix AI_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from libs.common.settings import CommonSettings


class AiSettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="AI_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = 8005
