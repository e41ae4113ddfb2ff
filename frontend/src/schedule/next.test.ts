import { describe, expect, it } from "vitest";
import { nextOccurrence } from "./next";

// Wednesday 2026-11-25 08:20 UTC
const NOW = new Date("2026-11-25T08:20:00Z");

describe("nextOccurrence", () => {
  it("finds the same weekday later today in UTC", () => {
    expect(nextOccurrence("Wednesday", 10, "UTC", NOW)?.toISOString()).toBe("2026-11-25T10:00:00.000Z");
  });

  it("moves to next week when today's hour has passed", () => {
    expect(nextOccurrence("wednesday", 8, "UTC", NOW)?.toISOString()).toBe("2026-12-02T08:00:00.000Z");
  });

  it("honours half-hour zones such as Asia/Kolkata", () => {
    // Thursday 10:00 in Kolkata (+05:30) is Thursday 04:30 UTC
    expect(nextOccurrence("Thursday", 10, "Asia/Kolkata", NOW)?.toISOString()).toBe(
      "2026-11-26T04:30:00.000Z",
    );
  });

  it("counts numeric days from Monday = 0", () => {
    expect(nextOccurrence(4, 9, "UTC", NOW)?.toISOString()).toBe("2026-11-27T09:00:00.000Z"); // Friday
  });

  it("refuses unknown days, hours and zones", () => {
    expect(nextOccurrence("Funday", 9, "UTC", NOW)).toBeNull();
    expect(nextOccurrence("Monday", 24, "UTC", NOW)).toBeNull();
    expect(nextOccurrence("Monday", 9, "Mars/Olympus", NOW)).toBeNull();
  });
});
