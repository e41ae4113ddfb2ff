// A port of libs/common/templates.py for the live preview: "{field}" placeholders from a
// whitelist, "{{" and "}}" for literal braces. Unknown placeholders are flagged, not thrown,
// so the editor can point at them while the user types.
export const PLACEHOLDERS = [
  "name",
  "firstName",
  "email",
  "phone",
  "city",
  "totalSpends",
  "visits",
  "orderCount",
  "lastVisit",
  "lastOrderAt",
] as const;

export const MAX_TEMPLATE_LENGTH = 2000;

const DEFAULTS: Record<string, string> = { name: "there", firstName: "there" };
// Stored as floats by the backend, so Python renders them with thousands separators.
const FLOAT_FIELDS = new Set(["totalSpends"]);
const TOKEN = /\{\{|\}\}|\{([^{}]*)\}|[{}]/g;

export type Part =
  { kind: "text"; text: string } | { kind: "placeholder"; name: string; known: boolean; raw: string };

export interface ParsedTemplate {
  parts: Part[];
  unknown: string[];
  errors: string[];
}

export function parseTemplate(text: string): ParsedTemplate {
  const parts: Part[] = [];
  const unknown: string[] = [];
  const errors: string[] = [];
  let literal = "";
  let position = 0;
  const flush = () => {
    if (literal) parts.push({ kind: "text", text: literal });
    literal = "";
  };
  for (const match of text.matchAll(TOKEN)) {
    const start = match.index ?? 0;
    literal += text.slice(position, start);
    position = start + match[0].length;
    const token = match[0];
    if (token === "{{" || token === "}}") {
      literal += token[0];
      continue;
    }
    if (token === "{" || token === "}") {
      errors.push(`unbalanced brace at position ${start}; write {{ or }} for a literal brace`);
      literal += token;
      continue;
    }
    const name = (match[1] ?? "").trim();
    const known = (PLACEHOLDERS as readonly string[]).includes(name);
    if (!known) {
      unknown.push(match[1] ?? "");
      errors.push(`unknown placeholder {${match[1]}}`);
    }
    flush();
    parts.push({ kind: "placeholder", name, known, raw: token });
  }
  literal += text.slice(position);
  flush();
  if (!text.trim()) errors.push("message must be non-empty text");
  if (text.length > MAX_TEMPLATE_LENGTH)
    errors.push(`message is longer than ${MAX_TEMPLATE_LENGTH} characters`);
  return { parts, unknown, errors };
}

export function formatValue(name: string, value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (!FLOAT_FIELDS.has(name)) return String(value);
    const decimals = Number.isInteger(value) ? 0 : 2;
    return value.toLocaleString("en-US", {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    });
  }
  return String(value);
}

/** The values a template needs from an API customer (camelCase), firstName derived from name. */
export function placeholderValues(customer: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const name of PLACEHOLDERS) {
    if (name === "firstName") {
      const full = String(customer.name ?? "").trim();
      values.firstName = full ? full.split(/\s+/)[0] : undefined;
    } else values[name] = customer[name];
  }
  return values;
}

export type RenderedSegment = { kind: "text" | "value" | "unknown"; text: string };

/** Rendered pieces, so the preview can highlight substituted values and unknown placeholders. */
export function renderSegments(parsed: ParsedTemplate, values: Record<string, unknown>): RenderedSegment[] {
  return parsed.parts.map((part) => {
    if (part.kind === "text") return { kind: "text", text: part.text };
    if (!part.known) return { kind: "unknown", text: part.raw };
    const text = formatValue(part.name, values[part.name]) || DEFAULTS[part.name] || "";
    return { kind: "value", text };
  });
}

export function render(text: string, values: Record<string, unknown>): string {
  return renderSegments(parseTemplate(text), values)
    .map((s) => s.text)
    .join("");
}
