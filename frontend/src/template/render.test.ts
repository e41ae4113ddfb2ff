import { describe, expect, it } from "vitest";
import { FORMATTED, PLACEHOLDERS } from "./render";

describe("message editor chips", () => {
  it("offers only whitelisted placeholders, formatted ones included", () => {
    for (const chip of FORMATTED) {
      const name = chip.split("|")[0];
      expect(PLACEHOLDERS as readonly string[]).toContain(name);
    }
  });
});
