"""Settings of the vendor_sim service (env prefix VENDOR_SIM_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from libs.common.settings import CommonSettings


class VendorSimSettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="VENDOR_SIM_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = 8004
