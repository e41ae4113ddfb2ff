"""Settings of the gateway service (env prefix GATEWAY_)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from libs.common.settings import CommonSettings

DEV_SESSION_SECRET = "dev-session-secret-change-me"
GOOGLE_DISCOVERY_URL = "https://accounts.google.com/.well-known/openid-configuration"
_REPO_ROOT = Path(__file__).resolve().parents[2]


def split_csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class GatewaySettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = 8000
    # The public origin (https://crm.example.com) when behind a proxy; the OAuth redirect
    # URI and the Origin check use it. Empty: taken from each request's Host.
    public_url: str = ""

    # Sessions and cookies
    session_secret: str = DEV_SESSION_SECRET
    session_ttl_s: int = 86_400
    session_cookie: str = "mcrm_session"
    cookie_secure: bool | None = None  # None: Secure exactly when the request is https

    # Sign-in
    oidc_discovery_url: str = GOOGLE_DISCOVERY_URL
    oidc_client_id: str = Field(
        "", validation_alias=AliasChoices("GATEWAY_OIDC_CLIENT_ID", "GOOGLE_CLIENT_ID")
    )
    oidc_client_secret: str = Field(
        "", validation_alias=AliasChoices("GATEWAY_OIDC_CLIENT_SECRET", "GOOGLE_CLIENT_SECRET")
    )
    dev_login: bool = Field(False, validation_alias=AliasChoices("AUTH_DEV_LOGIN"))
    allowed_email_domains: str = ""  # comma separated; empty: any domain
    allowed_emails: str = ""  # comma separated; empty: anyone (within the domains)

    # Upstreams
    ingest_url: str = "http://127.0.0.1:8001"
    campaign_url: str = "http://127.0.0.1:8002"
    delivery_url: str = "http://127.0.0.1:8003"
    ai_url: str = "http://127.0.0.1:8005"
    upstream_timeout_s: float = 30.0
    upstream_connect_timeout_s: float = 5.0
    upstream_max_connections: int = 512
    # Server-sent event streams: their own pool, a cap per person, a lifetime after
    # which the browser reconnects.
    stream_max_connections: int = 1024
    stream_max_per_person: int = 20
    stream_max_lifetime_s: float = 300.0

    # Protection
    cors_origins: str = ""  # comma separated allowlist; empty: CORS off
    max_body_bytes: int = 25 * 1024 * 1024
    rate_limit_auth_per_min: int = 30
    rate_limit_ingest_per_s: int = 1000
    # the public unsubscribe pages (/u/{token}), per client address and minute
    rate_limit_unsubscribe_per_min: int = 30
    api_key_cache_s: float = 5.0
    redis_max_connections: int = 200  # requests wait for one beyond this, never fail
    # How many proxies in front of the gateway append to X-Forwarded-For (nginx: 1).
    # 0: the header is ignored and the peer address is the client.
    trusted_proxy_hops: int = Field(0, ge=0, le=5)

    frontend_dir: Path = _REPO_ROOT / "frontend" / "dist"

    # An empty line in .env (GATEWAY_COOKIE_SECURE=) means "not set", not an error.
    @field_validator("cookie_secure", mode="before")
    @classmethod
    def _empty_is_auto(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("frontend_dir", mode="before")
    @classmethod
    def _empty_is_default_dist(cls, value: Any) -> Any:
        return _REPO_ROOT / "frontend" / "dist" if value in ("", None) else value

    @model_validator(mode="after")
    def _refuse_dev_session_secret(self) -> GatewaySettings:
        if self.environment != "development" and self.session_secret == DEV_SESSION_SECRET:
            raise ValueError("GATEWAY_SESSION_SECRET must be set outside development")
        return self

    @model_validator(mode="after")
    def _refuse_open_sign_in(self) -> GatewaySettings:
        if self.environment != "development" and not (
            split_csv(self.allowed_email_domains) or split_csv(self.allowed_emails)
        ):
            raise ValueError(
                "set GATEWAY_ALLOWED_EMAIL_DOMAINS or GATEWAY_ALLOWED_EMAILS outside "
                "development: otherwise any Google account could sign in"
            )
        return self

    @property
    def upstreams(self) -> dict[str, str]:
        return {
            "ingest": self.ingest_url.rstrip("/"),
            "campaign": self.campaign_url.rstrip("/"),
            "delivery": self.delivery_url.rstrip("/"),
            "ai": self.ai_url.rstrip("/"),
        }

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.rstrip("/") for o in split_csv(self.cors_origins)]

    @property
    def oidc_configured(self) -> bool:
        return bool(self.oidc_client_id)
