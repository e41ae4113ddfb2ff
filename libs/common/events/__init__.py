"""Every stream entry type, by stream. Importing this module registers them all."""

from libs.common.events.base import EVENT_TYPES, Event, decode, encode
from libs.common.events.campaign import (
    AudienceResolved,
    CampaignAutoPaused,
    CampaignCancelled,
    CampaignCompleted,
    CampaignCreated,
    CampaignLaunched,
    CampaignPaused,
    CampaignResumed,
    CampaignTagged,
)
from libs.common.events.delivery import (
    FailedMessage,
    MessagesCancelled,
    MessagesFailed,
    MessagesSent,
    Receipt,
    ReceiptsReceived,
    Recipient,
    SendRequested,
    SentMessage,
    message_id,
)
from libs.common.events.ingest import (
    CustomerRecord,
    CustomersUpserted,
    OrderRecord,
    OrdersRecorded,
)

__all__ = [
    "EVENT_TYPES",
    "AudienceResolved",
    "CampaignAutoPaused",
    "CampaignCancelled",
    "CampaignCompleted",
    "CampaignCreated",
    "CampaignLaunched",
    "CampaignPaused",
    "CampaignResumed",
    "CampaignTagged",
    "CustomerRecord",
    "CustomersUpserted",
    "Event",
    "FailedMessage",
    "MessagesCancelled",
    "MessagesFailed",
    "MessagesSent",
    "OrderRecord",
    "OrdersRecorded",
    "Receipt",
    "ReceiptsReceived",
    "Recipient",
    "SendRequested",
    "SentMessage",
    "decode",
    "encode",
    "message_id",
]
