"""Request and response shapes of the simulated vendor's HTTP API (camelCase)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class OutboundMessage(_Model):
    client_ref: str = Field(alias="clientRef", min_length=1, max_length=300)
    to: str = Field(min_length=1, max_length=320)
    channel: Literal["sms", "email"]
    body: str = Field(max_length=100_000)  # email; an SMS body is refused over 1,600

    @model_validator(mode="after")
    def _sms_length(self) -> OutboundMessage:
        if self.channel == "sms" and len(self.body) > 1600:
            raise ValueError("an SMS body holds at most 1,600 characters")
        return self


class SendRequest(_Model):
    callback_url: str = Field(alias="callbackUrl", min_length=8, max_length=2000)
    messages: list[OutboundMessage] = Field(min_length=1)


class AcceptedMessage(_Model):
    client_ref: str = Field(serialization_alias="clientRef")
    vendor_message_id: str = Field(serialization_alias="vendorMessageId")
    status: Literal["accepted"] = "accepted"


class SendResponse(_Model):
    messages: list[AcceptedMessage]


class ControlRequest(_Model):
    success_rate: float | None = Field(None, alias="successRate", ge=0, le=1)
    error_rate: float | None = Field(None, alias="errorRate", ge=0, le=1)
    down: bool | None = None
    latency_ms: float | None = Field(None, alias="latencyMs", ge=0)
    latency_jitter_ms: float | None = Field(None, alias="latencyJitterMs", ge=0)
