// Mirrors libs/common/rules.py FIELDS and OPERATORS_BY_KIND: the server refuses anything else.
export type FieldKind = "number" | "date" | "text" | "list";

export interface FieldMeta {
  name: string;
  label: string;
  kind: FieldKind;
}

export const FIELDS: FieldMeta[] = [
  { name: "totalSpends", label: "Total spend", kind: "number" },
  { name: "visits", label: "Visits", kind: "number" },
  { name: "orderCount", label: "Orders", kind: "number" },
  { name: "lastVisit", label: "Last visit", kind: "date" },
  { name: "lastOrderAt", label: "Last order", kind: "date" },
  { name: "createdAt", label: "Customer since", kind: "date" },
  { name: "name", label: "Name", kind: "text" },
  { name: "email", label: "Email", kind: "text" },
  { name: "phone", label: "Phone", kind: "text" },
  { name: "city", label: "City", kind: "text" },
  { name: "timezone", label: "Time zone", kind: "text" },
  { name: "tags", label: "Tags", kind: "list" },
  // subscribed | unsubscribed | unknown (absent)
  { name: "consent.email", label: "Email consent", kind: "text" },
  { name: "consent.sms", label: "SMS consent", kind: "text" },
];

const COMPARISONS = [">", ">=", "<", "<="];

export const OPERATORS_BY_KIND: Record<FieldKind, string[]> = {
  number: [...COMPARISONS, "=", "!=", "in", "exists"],
  date: [...COMPARISONS, "inactive_days", "active_within_days", "exists"],
  text: ["=", "!=", "contains", "in", "exists"],
  list: ["contains", "in", "exists"],
};

export const DAY_OPERATORS = ["inactive_days", "active_within_days"];

export function operatorLabel(kind: FieldKind, operator: string): string {
  if (kind === "date") {
    const dateWords: Record<string, string> = {
      ">": "after",
      ">=": "on or after",
      "<": "before",
      "<=": "on or before",
      inactive_days: "inactive for N days",
      active_within_days: "active within N days",
      exists: "is known / unknown",
    };
    return dateWords[operator] ?? operator;
  }
  const words: Record<string, string> = {
    ">": "greater than",
    ">=": "at least",
    "<": "less than",
    "<=": "at most",
    "=": "equals",
    "!=": "is not",
    contains: kind === "list" ? "includes" : "contains",
    in: "is any of",
    exists: "is known / unknown",
  };
  return words[operator] ?? operator;
}

export function fieldMeta(name: string): FieldMeta {
  return FIELDS.find((f) => f.name === name) ?? { name, label: name, kind: "text" };
}

export function defaultOperator(kind: FieldKind): string {
  return { number: ">", date: "inactive_days", text: "=", list: "contains" }[kind];
}

export function defaultValue(operator: string): string {
  if (operator === "exists") return "true";
  if (DAY_OPERATORS.includes(operator)) return "30";
  return "";
}
