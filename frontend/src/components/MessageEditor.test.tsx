// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { MessageEditor } from "./MessageEditor";

const sample = { id: "c1", name: "Asha Rao", email: "asha@example.com", city: "Pune", totalSpends: 12000 };

function Harness({ initial }: { initial: string }) {
  const [text, setText] = useState(initial);
  return <MessageEditor value={text} onChange={setText} sample={sample} serverErrors={[]} />;
}

afterEach(cleanup);

describe("MessageEditor", () => {
  it("renders the live preview for the sample customer", () => {
    render(<Harness initial="Hi {firstName} from {city}, you spent {totalSpends}. {{literal}}" />);
    expect(screen.getByTestId("message-preview").textContent).toBe(
      "Hi Asha from Pune, you spent 12,000. {literal}",
    );
  });

  it("inserts a placeholder chip into the message", () => {
    render(<Harness initial="Hello " />);
    const area = screen.getByLabelText("Message text") as HTMLTextAreaElement;
    area.setSelectionRange(6, 6);
    fireEvent.click(screen.getByRole("button", { name: "{firstName}" }));
    expect(area.value).toBe("Hello {firstName}");
    expect(screen.getByTestId("message-preview").textContent).toBe("Hello Asha");
  });

  it("flags an unknown placeholder in the preview and next to the field", () => {
    render(<Harness initial="Hi {nmae}" />);
    expect(screen.getByRole("alert").textContent).toContain("unknown placeholder {nmae}");
    expect(screen.getByTitle("Unknown placeholder").textContent).toBe("{nmae}");
    expect(screen.getByLabelText("Message text").getAttribute("aria-invalid")).toBe("true");
  });
});
