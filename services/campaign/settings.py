"""Settings of the campaign service (env prefix CAMPAIGN_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.common.settings import CommonSettings


class CampaignSettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="CAMPAIGN_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = 8002
    # The campaign service's own database server, if it has one ("" = MONGODB_URI), as
    # delivery's DELIVERY_MONGODB_URI: journeys write a state per customer per step, and
    # on a server that runs every database on one interpreter (nx-27017) those writes
    # queue behind the ingest and AI workers' (issue #24's trigger-to-send latency).
    own_mongodb_uri: str = Field("", alias="CAMPAIGN_MONGODB_URI")
    # A running campaign whose messages have not all reached a final state this long
    # after its audience was resolved (or it was resumed) completes with the rest unknown.
    completion_timeout_s: float = Field(900.0, gt=0)
    # How often the worker's scheduler looks for due, stale or finished campaigns.
    scheduler_interval_s: float = Field(1.0, gt=0)
    # At most one counter recompute per campaign per this many seconds from receipts.
    recompute_interval_s: float = Field(0.5, ge=0)
    # Every active campaign is recomputed at least this often, whatever the receipts:
    # this is what repairs counters after a crash between two writes.
    refresh_interval_s: float = Field(5.0, gt=0)
    # A launching or running campaign whose progress has not moved for this long while
    # members wait for a final state has its launch replayed from the stored audience
    # (lost stream entries are found and sent; nothing is sent twice).
    replay_after_s: float = Field(120.0, gt=0)
    # A launch whose stream entry was not confirmed this long ago is published again.
    launch_retry_after_s: float = Field(15.0, gt=0)
    sse_poll_interval_s: float = Field(0.35, gt=0)
    sse_keepalive_s: float = Field(15.0, gt=0)
    worker_metrics_port: int = 0
    # The ingest API, asked how many customers a launch would reach (empty -> 422).
    ingest_url: str = "http://127.0.0.1:8001"
    audience_check_timeout_s: float = Field(3.0, gt=0)
    # A schedule further ahead than this is refused.
    max_schedule_ahead_days: int = Field(365, ge=1)
    # Journeys (services/campaign/journeys): the timer worker leases due customers for
    # this long (a killed worker's are taken over after it), this many per pass.
    journey_lease_s: float = Field(15.0, gt=0)
    journey_timer_batch: int = Field(500, ge=1, le=5000)
    journey_timer_poll_s: float = Field(0.2, gt=0)

    @property
    def store_uri(self) -> str:
        """The database server holding the campaign service's collections."""
        return self.own_mongodb_uri or self.mongodb_uri
