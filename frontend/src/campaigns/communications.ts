import { formatDate } from "../format";

/** What an empty messages list means, for the filter and the campaign's status. */
export function emptyCommunications(filter: string, campaignStatus: string, scheduledAt?: string): string {
  if (filter) return `No ${filter} messages`;
  if (campaignStatus === "scheduled")
    return `No messages yet: they are created when the campaign starts${scheduledAt ? ` (${formatDate(scheduledAt)})` : ""}`;
  if (campaignStatus === "paused")
    return "No messages queued yet: the campaign is paused. Resume it to send.";
  if (campaignStatus === "cancelled") return "No messages: the campaign was cancelled before sending";
  return "No messages yet";
}
