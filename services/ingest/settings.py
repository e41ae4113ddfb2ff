"""Settings of the ingest service (env prefix INGEST_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from libs.common.settings import CommonSettings


class IngestSettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="INGEST_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = 8001
