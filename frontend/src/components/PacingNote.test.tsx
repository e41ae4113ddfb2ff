// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { PacingNote } from "./PacingNote";

const base = { count: 500, sample: [] };

describe("PacingNote", () => {
  afterEach(cleanup);

  it("says how many wait for quiet hours and how many are capped", () => {
    render(<PacingNote preview={{ ...base, deferred: 120, capped: 14 }} />);
    expect(screen.getByTestId("pacing-note").textContent).toBe(
      "120 will wait for quiet hours to end · 14 are capped",
    );
  });

  it("names only what applies, in the singular for one", () => {
    render(<PacingNote preview={{ ...base, deferred: 0, capped: 1 }} />);
    expect(screen.getByTestId("pacing-note").textContent).toBe("1 is capped");
  });

  it("shows nothing when nobody is deferred or capped, or before a preview", () => {
    const { container } = render(<PacingNote preview={{ ...base, deferred: 0, capped: 0 }} />);
    expect(container.textContent).toBe("");
    const none = render(<PacingNote preview={undefined} />);
    expect(none.container.textContent).toBe("");
  });
});
