from libs.common.streams.admin import (
    ensure_group,
    replay_dlq,
    safe_trim,
    stream_overview,
    unread_entries,
)
from libs.common.streams.consumer import ConsumerConfig, StreamConsumer, default_consumer_name
from libs.common.streams.names import (
    ALL_STREAMS,
    CAMPAIGN_EVENTS,
    INGEST,
    RECEIPT,
    SEGMENT,
    SEND,
    dlq_name,
)
from libs.common.streams.producer import AsyncStreamProducer, StreamProducer

__all__ = [
    "ALL_STREAMS",
    "CAMPAIGN_EVENTS",
    "INGEST",
    "RECEIPT",
    "SEGMENT",
    "SEND",
    "AsyncStreamProducer",
    "ConsumerConfig",
    "StreamConsumer",
    "StreamProducer",
    "default_consumer_name",
    "dlq_name",
    "ensure_group",
    "replay_dlq",
    "safe_trim",
    "stream_overview",
    "unread_entries",
]
