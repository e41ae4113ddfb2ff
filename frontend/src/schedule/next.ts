// Turning an advised send window ("Tuesday 10:00 Asia/Kolkata") into a concrete instant.
const DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const STEP_MS = 15 * 60_000; // quarter hours: zones such as Asia/Kolkata (+5:30) and Asia/Kathmandu (+5:45)

/** Index into DAYS; a number counts from Monday = 0, like Python's weekday(). */
function dayIndex(day: string | number): number {
  if (typeof day === "number") return Number.isInteger(day) && day >= 0 && day <= 6 ? (day + 1) % 7 : -1;
  return DAYS.indexOf(day.trim().toLowerCase());
}

function partsIn(timeZone: string, at: Date): { day: number; hour: number; minute: number } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "long",
    hour: "numeric",
    minute: "numeric",
    hourCycle: "h23",
  }).formatToParts(at);
  const value = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return {
    day: DAYS.indexOf(value("weekday").toLowerCase()),
    hour: Number(value("hour")),
    minute: Number(value("minute")),
  };
}

/** The first time after `now` that is that weekday at hour:00 in that time zone. */
export function nextOccurrence(
  day: string | number,
  hour: number,
  timeZone = "UTC",
  now = new Date(),
): Date | null {
  const target = dayIndex(day);
  if (target < 0 || !Number.isInteger(hour) || hour < 0 || hour > 23) return null;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    return null; // unknown zone name
  }
  const start = Math.floor(now.getTime() / STEP_MS) * STEP_MS;
  for (let t = start + STEP_MS; t <= start + 8 * 86_400_000; t += STEP_MS) {
    const candidate = new Date(t);
    const p = partsIn(timeZone, candidate);
    if (p.day === target && p.hour === hour && p.minute === 0) return candidate;
  }
  return null;
}

/** A Date as the value of an <input type="datetime-local"> in the browser's zone. */
export function toLocalInput(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}
