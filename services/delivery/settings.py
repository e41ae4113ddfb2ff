"""Settings of the delivery service (env prefix DELIVERY_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from libs.common.settings import CommonSettings


class DeliverySettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="DELIVERY_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = 8003
