export interface TimelineSlot {
  /** ISO time, or epoch seconds */
  t: string | number;
  delivered: number;
  failed: number;
}

/** Running totals per time bucket: the last bar always equals the counters above the chart. */
export function cumulativeTimeline(timeline: TimelineSlot[]): TimelineSlot[] {
  let delivered = 0;
  let failed = 0;
  return [...timeline]
    .sort((a, b) => epoch(a.t) - epoch(b.t))
    .map((slot) => {
      delivered += slot.delivered;
      failed += slot.failed;
      return { t: slot.t, delivered, failed };
    });
}

/** "in 2 h 5 min", "in 45 s"; "any moment now" once the time has come. */
export function countdownText(ms: number): string {
  if (ms <= 0) return "any moment now";
  const s = Math.ceil(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `in ${d} d ${h} h`;
  if (h > 0) return `in ${h} h ${m} min`;
  if (m > 0) return `in ${m} min ${s % 60} s`;
  return `in ${s} s`;
}

function epoch(t: string | number): number {
  return typeof t === "number" ? t * 1000 : Date.parse(t);
}
