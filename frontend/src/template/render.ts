// What the message editor offers; the rendering itself is the server's
// (POST /api/campaigns/message-preview, libs/common/templates.py), the same renderer
// delivery uses, so the preview and the sent message cannot disagree.
export const PLACEHOLDERS = [
  "name",
  "firstName",
  "email",
  "phone",
  "city",
  "totalSpends",
  "visits",
  "orderCount",
  "lastVisit",
  "lastOrderAt",
] as const;

/** Filtered placeholders offered as chips: money, dates, a fallback for a missing value. */
export const FORMATTED = ["totalSpends|currency", "lastVisit|date", 'firstName|default:"there"'] as const;

export const MAX_TEMPLATE_LENGTH = 2000;
