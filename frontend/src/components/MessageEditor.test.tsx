// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import type { MessagePreviewState } from "../hooks/useMessagePreview";
import { MessageEditor } from "./MessageEditor";

const sample = { id: "c1", name: "Asha Rao", email: "asha@example.com", city: "Pune", totalSpends: 12000 };
const rendered: MessagePreviewState = {
  preview: {
    text: "Hi Asha, ₹12,000.00 spent in .",
    segments: [
      { kind: "text", text: "Hi " },
      { kind: "value", text: "Asha" },
      { kind: "text", text: ", " },
      { kind: "value", text: "₹12,000.00" },
      { kind: "text", text: " spent in " },
      { kind: "missing", text: "" },
      { kind: "text", text: "." },
    ],
    fields: ["firstName", "totalSpends", "city"],
    currency: "INR",
    locale: "en-IN",
  },
  errors: [],
  loading: false,
  failed: false,
  stale: false,
};

function Harness({ initial, preview }: { initial: string; preview: MessagePreviewState }) {
  const [text, setText] = useState(initial);
  return (
    <MessageEditor value={text} onChange={setText} sample={sample} preview={preview} serverErrors={[]} />
  );
}

afterEach(cleanup);

describe("MessageEditor", () => {
  it("shows the server's rendering, marking values and missing ones", () => {
    render(<Harness initial="Hi {firstName}, {totalSpends|currency} spent in {city}." preview={rendered} />);
    expect(screen.getByTestId("message-preview").textContent).toBe("Hi Asha, ₹12,000.00 spent in (empty).");
    expect(screen.getByText("(empty)").getAttribute("title")).toContain('|default:"…"');
    expect(screen.getByText(/INR, en-IN/)).toBeTruthy();
  });

  it("inserts a placeholder chip, a formatted one included, at the cursor", () => {
    render(<Harness initial="Hello " preview={rendered} />);
    const area = screen.getByLabelText("Message text") as HTMLTextAreaElement;
    area.setSelectionRange(6, 6);
    fireEvent.click(screen.getByRole("button", { name: "{totalSpends|currency}" }));
    expect(area.value).toBe("Hello {totalSpends|currency}");
  });

  it("shows why the server cannot render the template next to the field", () => {
    const refused = { ...rendered, preview: undefined, errors: ["unknown placeholder {nmae}"] };
    render(<Harness initial="Hi {nmae}" preview={refused} />);
    expect(screen.getByRole("alert").textContent).toContain("unknown placeholder {nmae}");
    expect(screen.getByLabelText("Message text").getAttribute("aria-invalid")).toBe("true");
  });
});
