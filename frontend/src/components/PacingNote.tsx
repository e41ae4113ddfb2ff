import type { Preview } from "../api/types";
import { formatNumber } from "../format";

/** How many of the audience delivery will hold for quiet hours or skip as capped,
 * from the preview's counts; nothing when neither applies. */
export function PacingNote({ preview, testId = "pacing-note" }: { preview?: Preview; testId?: string }) {
  const deferred = preview?.deferred ?? 0;
  const capped = preview?.capped ?? 0;
  if (!deferred && !capped) return null;
  const parts: string[] = [];
  if (deferred) parts.push(`${formatNumber(deferred)} will wait for quiet hours to end`);
  if (capped) parts.push(`${formatNumber(capped)} ${capped === 1 ? "is" : "are"} capped`);
  return (
    <p className="mt-1 text-sm text-amber-800" data-testid={testId}>
      {parts.join(" · ")}
    </p>
  );
}
