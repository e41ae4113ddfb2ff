"""Settings of the vendor simulator.

Its behaviour knobs use the vendor's own names (``VENDOR_*``); ``VENDOR_WEBHOOK_SECRET``
is the one secret it shares with the delivery service (which verifies the signature).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from libs.common.settings import CommonSettings

DEV_WEBHOOK_SECRET = "dev-vendor-webhook-secret"


class VendorSimSettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="VENDOR_SIM_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = 8004
    webhook_secret: str = Field(DEV_WEBHOOK_SECRET, alias="VENDOR_WEBHOOK_SECRET")
    seed: int | None = Field(None, alias="VENDOR_SEED")
    success_rate: float = Field(0.9, ge=0, le=1, alias="VENDOR_SUCCESS_RATE")
    error_rate: float = Field(0.0, ge=0, le=1, alias="VENDOR_ERROR_RATE")
    down: bool = Field(False, alias="VENDOR_DOWN")
    soft_failures_only: bool = Field(False, alias="VENDOR_SOFT_FAILURES_ONLY")
    latency_ms: float = Field(500, ge=0, alias="VENDOR_LATENCY_MS")
    latency_jitter_ms: float = Field(300, ge=0, alias="VENDOR_LATENCY_JITTER_MS")
    latency_distribution: Literal["normal", "exponential", "uniform"] = Field(
        "normal", alias="VENDOR_LATENCY_DISTRIBUTION"
    )
    max_batch: int = Field(1000, ge=1, alias="VENDOR_MAX_BATCH")
    callback_batch: int = Field(500, ge=1, alias="VENDOR_CALLBACK_BATCH")
    callback_flush_ms: int = Field(100, ge=5, alias="VENDOR_CALLBACK_FLUSH_MS")
    callback_max_attempts: int = Field(60, ge=1, alias="VENDOR_CALLBACK_MAX_ATTEMPTS")
    callback_retry_base_ms: int = Field(200, ge=1, alias="VENDOR_CALLBACK_RETRY_BASE_MS")
    callback_retry_cap_ms: int = Field(5000, ge=1, alias="VENDOR_CALLBACK_RETRY_CAP_MS")
    callback_concurrency: int = Field(8, ge=1, alias="VENDOR_CALLBACK_CONCURRENCY")

    @model_validator(mode="after")
    def _refuse_dev_webhook_secret_in_production(self) -> VendorSimSettings:
        if self.environment != "development" and self.webhook_secret == DEV_WEBHOOK_SECRET:
            raise ValueError("VENDOR_WEBHOOK_SECRET must be set outside development")
        return self
