import { describe, expect, it } from "vitest";
import { emptyCommunications } from "./communications";

describe("an empty messages list", () => {
  it("says why it is empty", () => {
    expect(emptyCommunications("held", "running")).toBe("No held messages");
    expect(emptyCommunications("", "paused")).toContain("the campaign is paused");
    expect(emptyCommunications("", "scheduled")).toContain("created when the campaign starts");
    expect(emptyCommunications("", "cancelled")).toContain("cancelled before sending");
    expect(emptyCommunications("", "running")).toBe("No messages yet");
  });
});
