"""Settings of the gateway service (env prefix GATEWAY_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from libs.common.settings import CommonSettings


class GatewaySettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = 8000
