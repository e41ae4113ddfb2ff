// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { newCondition, newGroup, toRulesJson, type GroupNode } from "../rules/model";
import { RuleBuilder } from "./RuleBuilder";

function Harness({ errors = new Map<string, string[]>() }: { errors?: Map<string, string[]> }) {
  const [root, setRoot] = useState<GroupNode>(() => newGroup("AND", [newCondition("totalSpends")]));
  return (
    <>
      <RuleBuilder value={root} onChange={setRoot} errors={errors} />
      <pre data-testid="json">{JSON.stringify(toRulesJson(root))}</pre>
    </>
  );
}

const json = () => JSON.parse(screen.getByTestId("json").textContent ?? "{}");
const conditions = () => screen.getAllByTestId("rule-condition");
const change = (el: HTMLElement, value: string) => fireEvent.change(el, { target: { value } });

afterEach(cleanup);

describe("RuleBuilder", () => {
  it("builds a nested AND/OR audience through the controls", () => {
    render(<Harness />);
    const first = within(conditions()[0]);
    change(first.getByLabelText("Field"), "city");
    change(first.getByLabelText("Value"), "Pune");
    const root = screen.getByTestId("rule-root");
    const addGroups = within(root).getAllByRole("button", { name: "Add group" });
    fireEvent.click(addGroups[addGroups.length - 1]);
    const group = within(screen.getByTestId("rule-group"));
    change(within(conditions()[1]).getByLabelText("Value"), "5000");
    fireEvent.click(group.getByRole("button", { name: "Add condition" }));
    const third = within(conditions()[2]);
    change(third.getByLabelText("Field"), "lastVisit");
    change(third.getByLabelText("Operator"), "inactive_days");
    change(third.getByLabelText("Number of days"), "90");

    expect(json()).toEqual({
      operator: "AND",
      conditions: [
        { field: "city", operator: "=", value: "Pune" },
        {
          operator: "OR",
          conditions: [
            { field: "totalSpends", operator: ">", value: 5000 },
            { field: "lastVisit", operator: "inactive_days", value: 90 },
          ],
        },
      ],
    });

    fireEvent.click(group.getByRole("radio", { name: "ALL (AND)" }));
    expect(json().conditions[1].operator).toBe("AND");
    fireEvent.click(group.getByRole("button", { name: "Remove group 1" }));
    expect(json()).toEqual({
      operator: "AND",
      conditions: [{ field: "city", operator: "=", value: "Pune" }],
    });
  });

  it("offers only the operators that fit the field's kind", () => {
    render(<Harness />);
    const row = within(conditions()[0]);
    change(row.getByLabelText("Field"), "lastOrderAt");
    const ops = Array.from((row.getByLabelText("Operator") as HTMLSelectElement).options).map((o) => o.value);
    expect(ops).toEqual([">", ">=", "<", "<=", "inactive_days", "active_within_days", "exists"]);
    expect(
      Array.from((row.getByLabelText("Operator") as HTMLSelectElement).options).map((o) => o.text),
    ).toContain("inactive for N days");
    change(row.getByLabelText("Field"), "tags");
    const tagOps = Array.from((row.getByLabelText("Operator") as HTMLSelectElement).options).map(
      (o) => o.value,
    );
    expect(tagOps).toEqual(["contains", "in", "exists"]);
  });

  it("shows a validation message next to the condition it names", () => {
    const root = newGroup("AND", [newCondition("totalSpends"), newCondition("city")]);
    const errors = new Map([[root.conditions[1].id, ["text must be 1 to 200 characters"]]]);
    render(<RuleBuilder value={root} onChange={() => undefined} errors={errors} />);
    const [spend, city] = conditions();
    expect(within(city).getByRole("alert").textContent).toContain("text must be 1 to 200 characters");
    expect(within(spend).queryByRole("alert")).toBeNull();
    expect(within(city).getByLabelText("Value").getAttribute("aria-invalid")).toBe("true");
  });
});
