from libs.common.streams.admin import (
    ensure_group,
    partitioned_overview,
    replay_dlq,
    replay_partitions,
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
    SINGLE,
    StreamLayout,
    dlq_name,
    partition_name,
)
from libs.common.streams.producer import AsyncStreamProducer, StreamProducer

__all__ = [
    "ALL_STREAMS",
    "CAMPAIGN_EVENTS",
    "INGEST",
    "RECEIPT",
    "SEGMENT",
    "SEND",
    "SINGLE",
    "StreamLayout",
    "AsyncStreamProducer",
    "ConsumerConfig",
    "StreamConsumer",
    "StreamProducer",
    "default_consumer_name",
    "dlq_name",
    "ensure_group",
    "partition_name",
    "partitioned_overview",
    "replay_dlq",
    "replay_partitions",
    "safe_trim",
    "stream_overview",
    "unread_entries",
]
