"""Settings of the campaign service (env prefix CAMPAIGN_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from libs.common.settings import CommonSettings


class CampaignSettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="CAMPAIGN_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = 8002
