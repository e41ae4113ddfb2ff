import { describe, expect, it } from "vitest";
import { parseTemplate, placeholderValues, render, renderSegments } from "./render";

const customer = {
  name: "Asha Rao",
  email: "asha@example.com",
  totalSpends: 12500.5,
  visits: 1200,
  city: "Pune",
};

describe("template preview", () => {
  it("substitutes placeholders for a sample customer", () => {
    const values = placeholderValues(customer);
    expect(render("Hi {firstName}, {name} from {city}!", values)).toBe("Hi Asha, Asha Rao from Pune!");
  });

  it("formats spend like the server and leaves whole numbers plain", () => {
    const values = placeholderValues(customer);
    expect(render("{totalSpends} / {visits}", values)).toBe("12,500.50 / 1200");
    expect(render("{totalSpends}", { totalSpends: 10000 })).toBe("10,000");
  });

  it("turns doubled braces into literal braces", () => {
    expect(render("{{name}} is {name}}}", { name: "Bo" })).toBe("{name} is Bo}");
  });

  it("falls back to 'there' for a missing name", () => {
    expect(render("Hi {firstName}", placeholderValues({}))).toBe("Hi there");
    expect(render("Hi {city}.", {})).toBe("Hi .");
  });

  it("flags unknown placeholders without throwing", () => {
    const parsed = parseTemplate("Hi {nmae} and {name.__class__}");
    expect(parsed.unknown).toEqual(["nmae", "name.__class__"]);
    const segments = renderSegments(parsed, { name: "Bo" });
    expect(segments.filter((s) => s.kind === "unknown").map((s) => s.text)).toEqual([
      "{nmae}",
      "{name.__class__}",
    ]);
  });

  it("reports an unbalanced brace and an empty message", () => {
    expect(parseTemplate("50% off {").errors[0]).toMatch(/unbalanced brace at position 8/);
    expect(parseTemplate("   ").errors).toContain("message must be non-empty text");
  });

  it("tolerates spaces inside a placeholder like the server", () => {
    expect(render("Hi { name }", { name: "Bo" })).toBe("Hi Bo");
  });
});
