// The audience builder's pure model: an editable tree plus conversions to and from the
// server's rules JSON ({"operator","conditions":[...]}). Every edit returns a new tree.
import { DAY_OPERATORS, OPERATORS_BY_KIND, defaultOperator, defaultValue, fieldMeta } from "./fields";

export type GroupOperator = "AND" | "OR";

export interface ConditionNode {
  kind: "condition";
  id: string;
  field: string;
  operator: string;
  value: string; // as typed; "in" is comma separated, "exists" is "true"/"false"
}

export interface GroupNode {
  kind: "group";
  id: string;
  operator: GroupOperator;
  conditions: RuleNode[];
}

export type RuleNode = ConditionNode | GroupNode;

export interface RulesJson {
  operator: GroupOperator;
  conditions: (RulesJson | ConditionJson)[];
}

export interface ConditionJson {
  field: string;
  operator: string;
  value: unknown;
}

let counter = 0;
export function newId(): string {
  counter += 1;
  return `n${counter}`;
}

export function newCondition(field = "totalSpends"): ConditionNode {
  const operator = defaultOperator(fieldMeta(field).kind);
  return { kind: "condition", id: newId(), field, operator, value: defaultValue(operator) };
}

export function newGroup(operator: GroupOperator = "AND", conditions: RuleNode[] = []): GroupNode {
  return { kind: "group", id: newId(), operator, conditions };
}

function mapTree(node: RuleNode, id: string, edit: (n: RuleNode) => RuleNode): RuleNode {
  if (node.id === id) return edit(node);
  if (node.kind === "condition") return node;
  const conditions = node.conditions.map((c) => mapTree(c, id, edit));
  return conditions.some((c, i) => c !== node.conditions[i]) ? { ...node, conditions } : node;
}

function editGroup(root: GroupNode, groupId: string, edit: (g: GroupNode) => GroupNode): GroupNode {
  return mapTree(root, groupId, (n) => (n.kind === "group" ? edit(n) : n)) as GroupNode;
}

export function addCondition(root: GroupNode, groupId: string, condition = newCondition()): GroupNode {
  return editGroup(root, groupId, (g) => ({ ...g, conditions: [...g.conditions, condition] }));
}

export function addGroup(root: GroupNode, groupId: string, operator: GroupOperator = "OR"): GroupNode {
  const child = newGroup(operator, [newCondition()]);
  return editGroup(root, groupId, (g) => ({ ...g, conditions: [...g.conditions, child] }));
}

export function setGroupOperator(root: GroupNode, groupId: string, operator: GroupOperator): GroupNode {
  return editGroup(root, groupId, (g) => ({ ...g, operator }));
}

export function removeNode(root: GroupNode, id: string): GroupNode {
  if (root.id === id) return { ...root, conditions: [] };
  const prune = (g: GroupNode): GroupNode => ({
    ...g,
    conditions: g.conditions.filter((c) => c.id !== id).map((c) => (c.kind === "group" ? prune(c) : c)),
  });
  return prune(root);
}

export type ConditionPatch = Partial<Pick<ConditionNode, "field" | "operator" | "value">>;

/** Change a condition; a new field keeps the operator only when it fits the field's kind. */
export function updateCondition(root: GroupNode, id: string, patch: ConditionPatch): GroupNode {
  return mapTree(root, id, (n) => {
    if (n.kind !== "condition") return n;
    const next = { ...n, ...patch };
    if (patch.field !== undefined && patch.field !== n.field) {
      const oldKind = fieldMeta(n.field).kind;
      const kind = fieldMeta(patch.field).kind;
      if (!OPERATORS_BY_KIND[kind].includes(next.operator)) next.operator = defaultOperator(kind);
      if (kind !== oldKind && patch.value === undefined) next.value = defaultValue(next.operator);
    }
    if (patch.operator !== undefined && patch.operator !== n.operator && patch.value === undefined) {
      const wasSpecial = n.operator === "exists" || DAY_OPERATORS.includes(n.operator);
      const isSpecial = next.operator === "exists" || DAY_OPERATORS.includes(next.operator);
      if (wasSpecial || isSpecial) next.value = defaultValue(next.operator);
    }
    return next;
  }) as GroupNode;
}

// -- JSON conversion ------------------------------------------------------------------
function numberOrText(text: string): number | string {
  const cleaned = text.trim().replace(/,/g, "");
  return cleaned !== "" && Number.isFinite(Number(cleaned)) ? Number(cleaned) : text.trim();
}

export function conditionValue(c: ConditionNode): unknown {
  const kind = fieldMeta(c.field).kind;
  if (c.operator === "exists") return c.value !== "false";
  if (DAY_OPERATORS.includes(c.operator)) return numberOrText(c.value);
  if (c.operator === "in") {
    const items = c.value
      .split(",")
      .map((v) => v.trim())
      .filter((v) => v !== "");
    return kind === "number" ? items.map(numberOrText) : items;
  }
  if (kind === "number") return numberOrText(c.value);
  return c.value.trim();
}

export function toRulesJson(group: GroupNode): RulesJson {
  return {
    operator: group.operator,
    conditions: group.conditions.map((c) =>
      c.kind === "group"
        ? toRulesJson(c)
        : { field: c.field, operator: c.operator, value: conditionValue(c) },
    ),
  };
}

function valueText(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join(", ");
  if (value === undefined || value === null) return "";
  return String(value);
}

/** Load server rules (from AI, a saved segment, a lookalike) into an editable tree. */
export function fromRulesJson(raw: unknown): GroupNode {
  if (!raw || typeof raw !== "object") return newGroup();
  const obj = raw as Record<string, unknown>;
  const operator: GroupOperator = String(obj.operator ?? "AND").toUpperCase() === "OR" ? "OR" : "AND";
  const items = Array.isArray(obj.conditions) ? obj.conditions : [];
  const conditions: RuleNode[] = items.map((item) => {
    const c = (item ?? {}) as Record<string, unknown>;
    if ("conditions" in c) return fromRulesJson(c);
    const field = String(c.field ?? "totalSpends");
    const op = String(c.operator ?? defaultOperator(fieldMeta(field).kind));
    return { kind: "condition", id: newId(), field, operator: op, value: valueText(c.value) };
  });
  return newGroup(operator, conditions);
}

// -- validation messages ----------------------------------------------------------------
/** Every node's path as the server names it: "rules", "rules.conditions[1].conditions[0]". */
export function nodePaths(root: GroupNode, base = "rules"): Map<string, string> {
  const paths = new Map<string, string>([[root.id, base]]);
  root.conditions.forEach((c, i) => {
    const path = `${base}.conditions[${i}]`;
    if (c.kind === "group") nodePaths(c, path).forEach((p, id) => paths.set(id, p));
    else paths.set(c.id, path);
  });
  return paths;
}

export interface ErrorDetail {
  path?: string;
  field?: string;
  message: string;
}

/** Server 422 details mapped to node ids; a message for "rules.conditions[0].value" lands on that condition. */
export function errorsByNode(root: GroupNode, details: ErrorDetail[]): Map<string, string[]> {
  const byPath = new Map<string, string>();
  nodePaths(root).forEach((path, id) => byPath.set(path, id));
  const result = new Map<string, string[]>();
  for (const detail of details) {
    let path = (detail.path ?? detail.field ?? "")
      .replace(/^body\./, "")
      .replace(/^(segmentRules|audienceRules)/, "rules");
    if (path && !path.startsWith("rules")) path = `rules.${path}`;
    let id: string | undefined;
    while (path && (id = byPath.get(path)) === undefined) {
      const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
      path = cut > 0 ? path.slice(0, cut) : "";
    }
    const target = id ?? root.id;
    result.set(target, [...(result.get(target) ?? []), detail.message]);
  }
  return result;
}

/** Problems the browser can see without asking the server (empty values). */
export function localProblems(root: GroupNode): Map<string, string[]> {
  const problems = new Map<string, string[]>();
  const walk = (g: GroupNode) => {
    for (const c of g.conditions) {
      if (c.kind === "group") walk(c);
      else if (c.operator !== "exists" && c.value.trim() === "") problems.set(c.id, ["enter a value"]);
    }
  };
  walk(root);
  return problems;
}

export function countConditions(node: RuleNode): number {
  return node.kind === "condition" ? 1 : node.conditions.reduce((n, c) => n + countConditions(c), 0);
}
