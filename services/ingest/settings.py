"""Settings of the ingest service (env prefix INGEST_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.common.settings import CommonSettings


class IngestSettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="INGEST_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = 8001
    # records per stream entry; entries stay well under Redis' comfortable size
    chunk_size: int = 500
    max_batch: int = 10_000
    idempotency_ttl_s: int = 24 * 3600
    import_max_bytes: int = 20 * 1024 * 1024
    import_max_errors: int = 200
    # audience resolver: recipients per send entry, entries per pipelined XADD
    send_chunk_size: int = 500
    send_chunks_per_flush: int = 10
    # The walk waits while more send entries than this are not yet read by delivery
    # (0: never): a million recipients published at once were ~200 MB of Redis.
    send_backlog_max: int = Field(200, ge=0)
    send_backlog_poll_s: float = Field(0.2, gt=0)
    # A replayed launch (services/ingest/audience/launches.py) is skipped while the campaign's walk
    # or an earlier replay saved progress less than this long ago.
    replay_alive_s: float = Field(60.0, gt=0)
    # The segment worker keeps its own audience read model and resolves from it; false:
    # the resolver walks the database (services/ingest/audience/source.py says why not to).
    resolver_model: bool = True
    # Ids asked of it at a time: the resolver and the API hold one page, not a whole
    # audience (a million ids cost each of them ~70 MB more).
    audience_page_size: int = Field(50_000, ge=1)
    # in-memory columnar read model for fast previews
    columns_enabled: bool = True
    # customers per page of the read model's load (one query each)
    columns_load_batch: int = 50_000
    # until the model is current, previews over more customers than this answer 503
    # rather than scan the database
    columns_scan_max_rows: int = 100_000
    # A snapshot of the read model kept here ("": none), so a restart restores it and
    # replays the change notices since (services/ingest/audience/snapshot.py); written
    # after a load, and again once this many notices were applied, at most once per
    # interval. Private to the service: the file is a pickle.
    snapshot_dir: str = ""
    snapshot_every: int = Field(200, ge=1)
    snapshot_min_interval_s: float = Field(60.0, ge=0)
    # ingest.changes entries kept. Each carries up to 2,000 written documents of ~300 B
    # (projected, sample data: 600 KB per full entry), and approximate trimming keeps up
    # to one stream node (100 entries) more: (400 + 100) x 600 KB = ~300 MB of Redis at
    # worst. A read model more than 400 entries (800,000 documents) behind reloads.
    changes_maxlen: int = 400
    metrics_port: int = 0
