import { describe, expect, it } from "vitest";
import {
  addCondition,
  addGroup,
  errorsByNode,
  fromRulesJson,
  localProblems,
  newCondition,
  newGroup,
  nodePaths,
  removeNode,
  setGroupOperator,
  toRulesJson,
  updateCondition,
  type GroupNode,
} from "./model";
import { FIELDS, OPERATORS_BY_KIND } from "./fields";

function spendAndInactive(): GroupNode {
  let root = newGroup("AND");
  root = addCondition(root, root.id, newCondition("totalSpends"));
  const spend = root.conditions[0];
  root = updateCondition(root, spend.id, { operator: ">", value: "10,000" });
  root = addGroup(root, root.id, "OR");
  return root;
}

describe("rule builder model", () => {
  it("nested edits produce the exact rules JSON", () => {
    let root = spendAndInactive();
    const inner = root.conditions[1] as GroupNode;
    const innerFirst = inner.conditions[0];
    root = updateCondition(root, innerFirst.id, { field: "lastVisit" });
    root = updateCondition(root, innerFirst.id, { operator: "inactive_days", value: "90" });
    root = addCondition(root, inner.id, newCondition("tags"));
    const tagCond = (root.conditions[1] as GroupNode).conditions[1];
    root = updateCondition(root, tagCond.id, { value: "vip" });
    root = addCondition(root, inner.id, newCondition("city"));
    const city = (root.conditions[1] as GroupNode).conditions[2];
    root = updateCondition(root, city.id, { operator: "in", value: "Pune, Mumbai ,," });

    expect(toRulesJson(root)).toEqual({
      operator: "AND",
      conditions: [
        { field: "totalSpends", operator: ">", value: 10000 },
        {
          operator: "OR",
          conditions: [
            { field: "lastVisit", operator: "inactive_days", value: 90 },
            { field: "tags", operator: "contains", value: "vip" },
            { field: "city", operator: "in", value: ["Pune", "Mumbai"] },
          ],
        },
      ],
    });
  });

  it("edits leave the original tree untouched", () => {
    const root = spendAndInactive();
    const before = JSON.stringify(toRulesJson(root));
    setGroupOperator(root, root.id, "OR");
    removeNode(root, root.conditions[0].id);
    expect(JSON.stringify(toRulesJson(root))).toBe(before);
  });

  it("removing a nested group drops it and its conditions", () => {
    let root = spendAndInactive();
    root = removeNode(root, root.conditions[1].id);
    expect(toRulesJson(root)).toEqual({
      operator: "AND",
      conditions: [{ field: "totalSpends", operator: ">", value: 10000 }],
    });
  });

  it("switching a group's operator changes only that group", () => {
    let root = spendAndInactive();
    root = setGroupOperator(root, root.conditions[1].id, "AND");
    root = setGroupOperator(root, root.id, "OR");
    const json = toRulesJson(root);
    expect(json.operator).toBe("OR");
    expect((json.conditions[1] as { operator: string }).operator).toBe("AND");
  });

  it("changing field to another kind picks an operator that fits and resets the value", () => {
    let root = newGroup("AND", [newCondition("totalSpends")]);
    const id = root.conditions[0].id;
    root = updateCondition(root, id, { operator: ">=", value: "5" });
    root = updateCondition(root, id, { field: "visits" });
    expect(toRulesJson(root).conditions[0]).toEqual({ field: "visits", operator: ">=", value: 5 });
    root = updateCondition(root, id, { field: "lastOrderAt" });
    expect(toRulesJson(root).conditions[0]).toEqual({ field: "lastOrderAt", operator: ">=", value: "" });
    root = updateCondition(root, id, { field: "tags" });
    expect(toRulesJson(root).conditions[0]).toEqual({ field: "tags", operator: "contains", value: "" });
  });

  it("date operators offer inactive/active N days and exists becomes a boolean", () => {
    expect(OPERATORS_BY_KIND.date).toContain("inactive_days");
    expect(OPERATORS_BY_KIND.date).toContain("active_within_days");
    let root = newGroup("AND", [newCondition("lastVisit")]);
    const id = root.conditions[0].id;
    root = updateCondition(root, id, { operator: "active_within_days" });
    expect(toRulesJson(root).conditions[0]).toEqual({
      field: "lastVisit",
      operator: "active_within_days",
      value: 30,
    });
    root = updateCondition(root, id, { operator: "exists" });
    root = updateCondition(root, id, { value: "false" });
    expect(toRulesJson(root).conditions[0]).toEqual({ field: "lastVisit", operator: "exists", value: false });
  });

  it("number 'in' values become numbers", () => {
    let root = newGroup("AND", [newCondition("visits")]);
    root = updateCondition(root, root.conditions[0].id, { operator: "in", value: "1, 2,3" });
    expect(toRulesJson(root).conditions[0]).toEqual({ field: "visits", operator: "in", value: [1, 2, 3] });
  });

  it("loads server rules and writes back the same JSON", () => {
    const rules = {
      operator: "OR",
      conditions: [
        { field: "email", operator: "contains", value: "@example.com" },
        {
          operator: "AND",
          conditions: [
            { field: "orderCount", operator: ">=", value: 3 },
            { field: "tags", operator: "in", value: ["vip", "gold"] },
          ],
        },
      ],
    };
    expect(toRulesJson(fromRulesJson(rules))).toEqual(rules);
  });

  it("server validation paths land on the node they name", () => {
    const root = spendAndInactive();
    const inner = root.conditions[1] as GroupNode;
    const paths = nodePaths(root);
    expect(paths.get(inner.conditions[0].id)).toBe("rules.conditions[1].conditions[0]");
    const errors = errorsByNode(root, [
      { path: "rules.conditions[0].value", message: "expected a number" },
      { path: "rules.conditions[1].conditions[0].operator", message: "bad operator" },
      { path: "rules.conditions[1].operator", message: "group operator must be AND or OR" },
      { path: "rules", message: "whole thing" },
    ]);
    expect(errors.get(root.conditions[0].id)).toEqual(["expected a number"]);
    expect(errors.get(inner.conditions[0].id)).toEqual(["bad operator"]);
    expect(errors.get(inner.id)).toEqual(["group operator must be AND or OR"]);
    expect(errors.get(root.id)).toEqual(["whole thing"]);
  });

  it("campaign paths (segmentRules...) map like rules paths", () => {
    const root = spendAndInactive();
    const errors = errorsByNode(root, [{ field: "segmentRules.conditions[0].value", message: "nope" }]);
    expect(errors.get(root.conditions[0].id)).toEqual(["nope"]);
  });

  it("empty values are reported locally before any request", () => {
    const root = newGroup("AND", [newCondition("city"), newCondition("lastVisit")]);
    const problems = localProblems(root);
    expect(problems.get(root.conditions[0].id)).toEqual(["enter a value"]);
    expect(problems.has(root.conditions[1].id)).toBe(false);
  });

  it("every field's default operator is one the server allows", () => {
    for (const field of FIELDS) {
      const c = newCondition(field.name);
      expect(OPERATORS_BY_KIND[field.kind]).toContain(c.operator);
    }
  });
});
