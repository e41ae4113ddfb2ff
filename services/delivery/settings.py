"""Settings of the delivery service (env prefix DELIVERY_).

``VENDOR_WEBHOOK_SECRET`` has no prefix: one name shared with the vendor, which signs
the receipts this service verifies.
"""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from libs.common.settings import CommonSettings

DEV_WEBHOOK_SECRET = "dev-vendor-webhook-secret"


class DeliverySettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="DELIVERY_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = 8003
    # Delivery's own database server, if it has one ("" = MONGODB_URI). Its rows take
    # one or two writes per message, most of a campaign's database work: on a server
    # that runs one database's commands at a time and every database on one interpreter
    # (nx-27017), a server of its own keeps the other services' queries out of its way.
    own_mongodb_uri: str = Field("", alias="DELIVERY_MONGODB_URI")
    metrics_port: int = 0
    vendor_url: str = "http://127.0.0.1:8004"
    receipt_callback_url: str = "http://127.0.0.1:8000/api/deliveries/receipts"
    # Where people reach the gateway: unsubscribe links are <public_url>/u/<token>.
    public_url: str = "http://127.0.0.1:8000"
    webhook_secret: str = Field(DEV_WEBHOOK_SECRET, alias="VENDOR_WEBHOOK_SECRET")
    vendor_batch_size: int = Field(500, ge=1, le=1000)
    # Chunks one send worker handles at once (threads): each mostly waits on the vendor.
    # The send worker writes no row of a sent message (the receipt worker does, see
    # services.delivery.receipts), so on one database server the receipt worker sets
    # the pace and the backlog brake below holds the send worker to it; a slow vendor
    # API wants more.
    send_concurrency: int = Field(1, ge=1, le=32)
    # Send entries (of up to 500 recipients) read at a time: one read of the stream's
    # default 200 was 100,000 recipients in memory (the send worker peaked at 259 MB in
    # a 1M-recipient campaign). Each read costs one rows lookup for the whole batch.
    send_batch_entries: int = Field(20, ge=1)
    # The send worker reads its next chunks once the receipt worker, which writes the
    # sent messages' rows, has at most this many entries left (0 = never wait), and
    # after receipt_backlog_wait_s at most (services.delivery.backlog). On N receipt
    # partitions, N times as many entries (receipt_entries).
    receipt_backlog_max: int = Field(100, ge=0)
    receipt_backlog_wait_s: float = Field(30.0, ge=0)
    vendor_timeout_s: float = Field(10.0, gt=0)
    vendor_max_retries: int = Field(7, ge=0)  # keep the total under the visibility timeout
    vendor_retry_base_ms: int = Field(200, ge=1)
    vendor_retry_cap_ms: int = Field(10_000, ge=1)
    vendor_breaker_s: float = Field(10.0, ge=0)  # fail fast this long after a used-up budget
    rate_limit_per_s: int = Field(2000, ge=0)  # all replicas together; 0 = unlimited
    campaign_rate_limit_per_s: int = Field(1000, ge=0)  # per campaign; 0 = unlimited
    autopause_failure_rate: float = Field(0.5, gt=0, le=1)
    autopause_window: int = Field(200, ge=1)
    held_sweep_interval_s: float = Field(15.0, gt=0)
    receipt_chunk: int = Field(500, ge=1)
    # Entries (of up to receipt_chunk receipts) the receipt worker applies per read: a
    # backlog of 200 entries was 100,000 receipts in memory and one long hold of the
    # database the send worker writes to as well. On N receipt partitions, N times as
    # many (receipt_entries), read from all of them and applied in one call.
    receipt_batch_entries: int = Field(20, ge=1)
    # A receipt ahead of its row is tried again this many times in all, this far apart,
    # before its entry is left for a redelivery (after the visibility timeout).
    receipt_attempts: int = Field(4, ge=1)
    receipt_retry_s: float = Field(0.25, ge=0)
    webhook_max_receipts: int = Field(5000, ge=1)
    # A receipt post signed longer ago than this (or ahead of now by as much) is refused;
    # a signature seen within twice this is a replay.
    webhook_max_age_s: int = Field(300, ge=1)

    def receipt_entries(self, per_partition: int) -> int:
        """A count of ``receipt`` entries, given for one unpartitioned stream, on this
        layout: the vendor's receipt batches are split by message over the N partitions
        (a batch of 500 becomes N entries), so N times as many entries hold about as many
        receipts, and as many of them meet their ``MessagesSent`` in one read (the
        one-write-per-message odds). A chunk's ``MessagesSent`` stays whole on one
        partition, so a read may hold up to N times the messages of one on one stream."""
        return per_partition * self.stream_layout().count("receipt")

    @property
    def store_uri(self) -> str:
        """The database server holding delivery's collections."""
        return self.own_mongodb_uri or self.mongodb_uri

    @model_validator(mode="after")
    def _refuse_dev_webhook_secret_in_production(self) -> DeliverySettings:
        if self.environment != "development" and self.webhook_secret == DEV_WEBHOOK_SECRET:
            raise ValueError("VENDOR_WEBHOOK_SECRET must be set outside development")
        return self
