import { describe, expect, it } from "vitest";
import { countdownText, cumulativeTimeline } from "./timeline";

describe("campaign timeline", () => {
  it("adds the buckets up in time order", () => {
    const out = cumulativeTimeline([
      { t: "2026-12-03T10:00:10Z", delivered: 5, failed: 1 },
      { t: "2026-12-03T10:00:00Z", delivered: 30, failed: 0 },
    ]);
    expect(out.map((s) => [s.delivered, s.failed])).toEqual([
      [30, 0],
      [35, 1],
    ]);
  });

  it("counts down in words", () => {
    expect(countdownText(-5)).toBe("any moment now");
    expect(countdownText(45_000)).toBe("in 45 s");
    expect(countdownText(65_000)).toBe("in 1 min 5 s");
    expect(countdownText((2 * 3600 + 5 * 60) * 1000)).toBe("in 2 h 5 min");
    expect(countdownText(26 * 3600 * 1000)).toBe("in 1 d 2 h");
  });
});
