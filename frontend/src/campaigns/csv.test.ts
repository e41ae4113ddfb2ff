import { describe, expect, it } from "vitest";
import type { Campaign } from "../api/types";
import { campaignsCsv, csvField } from "./csv";

describe("campaign CSV export", () => {
  it("quotes commas, quotes and new lines, and defuses formulas", () => {
    expect(csvField('Say "hi", friend')).toBe('"Say ""hi"", friend"');
    expect(csvField("line\nbreak")).toBe('"line\nbreak"');
    expect(csvField("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvField(-5)).toBe("-5");
    expect(csvField(undefined)).toBe("");
  });

  it("writes a header and one row per campaign", () => {
    const c = {
      id: "cmp_1",
      name: "Diwali, VIP",
      status: "completed",
      createdAt: "2026-11-01T10:00:00Z",
      audienceSize: 10,
      sent: 10,
      delivered: 9,
      failed: 1,
      deliveryRate: 90,
      tags: ["festive", "vip"],
      message: "Hi {firstName}",
    } as Campaign;
    const [header, row, end] = campaignsCsv([c]).split("\r\n");
    expect(header.split(",")[1]).toBe("name");
    expect(row).toBe(
      'cmp_1,"Diwali, VIP",completed,2026-11-01T10:00:00Z,,,10,10,9,1,90,festive;vip,Hi {firstName}',
    );
    expect(end).toBe("");
  });
});
