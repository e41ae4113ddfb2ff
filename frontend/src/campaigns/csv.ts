import type { Campaign } from "../api/types";

const COLUMNS: [string, (c: Campaign) => unknown][] = [
  ["id", (c) => c.id],
  ["name", (c) => c.name],
  ["status", (c) => c.status],
  ["createdAt", (c) => c.createdAt],
  ["scheduledAt", (c) => c.scheduledAt],
  ["completedAt", (c) => c.completedAt],
  ["audience", (c) => c.audienceSize],
  ["sent", (c) => c.sent],
  ["delivered", (c) => c.delivered],
  ["failed", (c) => c.failed],
  ["deliveryRate", (c) => c.deliveryRate],
  ["tags", (c) => (c.tags ?? []).join(";")],
  ["message", (c) => c.message],
];

/** One CSV field: quoted when needed; a leading =, +, - or @ cannot run as a formula. */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return "";
  let text = String(value);
  if (/^[=+\-@]/.test(text) && typeof value === "string") text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The campaign list as a CSV file (header row, one line per campaign). */
export function campaignsCsv(items: Campaign[]): string {
  const lines = [COLUMNS.map(([name]) => name).join(",")];
  for (const c of items) lines.push(COLUMNS.map(([, get]) => csvField(get(c))).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
