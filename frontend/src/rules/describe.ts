import { fieldMeta, operatorLabel } from "./fields";

/** A short English rendering of rules JSON, like libs/common/rules.py describe(). */
export function describeRules(node: unknown): string {
  if (!node || typeof node !== "object") return "everyone";
  const n = node as { operator?: string; conditions?: unknown[]; field?: string; value?: unknown };
  if (Array.isArray(n.conditions)) {
    const parts = n.conditions.map(describeRules);
    if (parts.length === 0) return "everyone";
    const joined = parts.join(` ${String(n.operator ?? "AND").toLowerCase()} `);
    return parts.length > 1 ? `(${joined})` : joined;
  }
  const meta = fieldMeta(String(n.field));
  const label = meta.label.toLowerCase();
  const value = Array.isArray(n.value) ? n.value.join(", ") : String(n.value);
  if (n.operator === "inactive_days") return `${label} more than ${value} days ago (or never)`;
  if (n.operator === "active_within_days") return `${label} within the last ${value} days`;
  if (n.operator === "exists") return `${label} ${n.value === false ? "is unknown" : "is known"}`;
  return `${label} ${operatorLabel(meta.kind, String(n.operator))} ${value}`;
}
