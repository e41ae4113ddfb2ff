// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { useRef, useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import type { JourneyStep } from "../api/journeys";
import { StepList } from "./StepList";

function Harness() {
  const [steps, setSteps] = useState<JourneyStep[]>([]);
  const counter = useRef(0);
  return (
    <>
      <StepList
        label="Journey steps"
        steps={steps}
        onChange={setSteps}
        nextId={() => `s${++counter.current}`}
      />
      <pre data-testid="json">{JSON.stringify(steps)}</pre>
    </>
  );
}

const json = () => JSON.parse(screen.getByTestId("json").textContent ?? "[]");
const add = (list: string, type: string) =>
  fireEvent.click(
    within(screen.getByRole("group", { name: `Add a step to ${list}` })).getByText(`+ ${type}`),
  );

afterEach(cleanup);

describe("StepList", () => {
  it("builds a wait then a branch whose arms hold their own steps", () => {
    render(<Harness />);
    add("Journey steps", "wait");
    fireEvent.change(screen.getByLabelText("Wait (seconds)"), { target: { value: "5" } });
    add("Journey steps", "branch");
    add("s2: else", "send");
    add("s2: then", "exit");
    fireEvent.change(screen.getByLabelText("Message"), { target: { value: "10% off" } });
    expect(json()).toEqual([
      { id: "s1", type: "wait", seconds: 5 },
      {
        id: "s2",
        type: "branch",
        orderedSinceEntry: true,
        then: [{ id: "s4", type: "exit" }],
        else: [{ id: "s3", type: "send", channel: "sms", message: "10% off" }],
      },
    ]);
    fireEvent.click(screen.getByRole("button", { name: "Remove step s2" }));
    expect(json()).toEqual([{ id: "s1", type: "wait", seconds: 5 }]);
  });

  it("shows the live count at each step, read-only", () => {
    const steps: JourneyStep[] = [{ id: "w", type: "wait", seconds: 60 }];
    render(
      <StepList
        label="Steps"
        steps={steps}
        stats={{ w: { id: "w", entered: 3, waiting: 2, sent: 0, failed: 0 } }}
      />,
    );
    expect(screen.getByTestId("count-w").textContent).toContain("2 waiting");
    expect(screen.queryByRole("group")).toBeNull();
  });
});
