"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from libs.common.formatting import WorkspaceFormat, check_format
from libs.common.redis_client import is_cluster_url
from libs.common.streams.names import StreamLayout, parse_partitions

DEV_INTERNAL_TOKEN = "dev-internal-token-change-me"
DEV_UNSUBSCRIBE_KEY = "dev-unsubscribe-key-change-me"


class CommonSettings(BaseSettings):
    """Connection and runtime settings every process needs.

    Shared variables have no prefix (REDIS_URL, MONGODB_URI, ...); service-specific
    settings classes add their own prefix for their own fields.
    """

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    environment: str = Field("development", alias="ENVIRONMENT")
    redis_url: str = Field("redis://127.0.0.1:6379/0", alias="REDIS_URL")
    mongodb_uri: str = Field("mongodb://127.0.0.1:27017", alias="MONGODB_URI")
    db_prefix: str = Field("crm_", alias="DB_PREFIX")
    internal_token: str = Field(DEV_INTERNAL_TOKEN, alias="INTERNAL_TOKEN")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    # Keys of the unsubscribe links (libs/common/unsubscribe.py), comma-separated, oldest
    # first: the last signs, all verify. Rotate by appending a key, retire by removing one.
    # (Not yet refused when left at the development value in production: see
    # docs/operations.md.)
    unsubscribe_keys: str = Field(DEV_UNSUBSCRIBE_KEY, alias="UNSUBSCRIBE_KEYS")
    stream_maxlen: int = Field(2_000_000, alias="STREAM_MAXLEN")
    # Partitions per logical stream: "4" (all), "send=8,receipt=4" or "4,ingest=2".
    # Every process must agree: producers pick a partition, consumers read them all.
    stream_partitions: str = Field("1", alias="STREAM_PARTITIONS")
    stream_batch_size: int = Field(200, alias="STREAM_BATCH_SIZE")
    stream_block_ms: int = Field(2000, alias="STREAM_BLOCK_MS")
    stream_visibility_timeout_ms: int = Field(30_000, alias="STREAM_VISIBILITY_TIMEOUT_MS")
    stream_max_deliveries: int = Field(5, alias="STREAM_MAX_DELIVERIES")
    stream_claim_interval_s: float = Field(5.0, alias="STREAM_CLAIM_INTERVAL_S")
    # After a short read a consumer waits this long before reading again, so a trickle
    # (single-record POSTs) is written in batches: at 1,000 records/s, 20 ms cut the
    # database server's and the workers' CPU by a third (docs/performance.md).
    stream_linger_ms: int = Field(20, ge=0, le=1000, alias="STREAM_LINGER_MS")
    # Stream workers are batch work; APIs answer people. When a node's CPUs are
    # saturated the kernel then favours the APIs (request latency) over the workers,
    # whose throughput only suffers while something interactive needs the CPU.
    worker_nice: int = Field(5, ge=0, le=19, alias="WORKER_NICE")
    # Message templates format {totalSpends|currency} and dates with these
    # (libs/common/formatting.py): an ISO 4217 code and a locale tag known to CLDR.
    workspace_currency: str = Field("INR", alias="WORKSPACE_CURRENCY")
    workspace_locale: str = Field("en-IN", alias="WORKSPACE_LOCALE")
    # A customer without a (known) IANA ``timezone`` lives in this one: quiet hours and
    # journeys' "wait until 09:00" read their clock.
    workspace_timezone: str = Field("UTC", alias="WORKSPACE_TIMEZONE")

    @field_validator("stream_partitions")
    @classmethod
    def _valid_partitions(cls, value: str) -> str:
        parse_partitions(value)
        return value

    def stream_layout(self) -> StreamLayout:
        """Partition names of every stream (hash-tagged on a Redis Cluster)."""
        return StreamLayout.from_spec(
            self.stream_partitions, cluster=is_cluster_url(self.redis_url)
        )

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> CommonSettings:
        if self.environment != "development" and self.internal_token == DEV_INTERNAL_TOKEN:
            raise ValueError("INTERNAL_TOKEN must be set outside development")
        return self

    @model_validator(mode="after")
    def _known_workspace_format(self) -> CommonSettings:
        check_format(self.workspace_currency, self.workspace_locale)
        return self

    def workspace_format(self) -> WorkspaceFormat:
        return WorkspaceFormat(self.workspace_currency, self.workspace_locale)

    def database_name(self, service: str) -> str:
        """One database per service on the shared server makes ownership visible."""
        return f"{self.db_prefix}{service}"
