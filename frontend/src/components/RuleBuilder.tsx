import { FolderPlus, Plus, Trash2 } from "lucide-react";
import type { KeyboardEvent } from "react";
import { DAY_OPERATORS, FIELDS, OPERATORS_BY_KIND, fieldMeta, operatorLabel } from "../rules/fields";
import {
  addCondition,
  addGroup,
  removeNode,
  setGroupOperator,
  updateCondition,
  type ConditionNode,
  type GroupNode,
  type GroupOperator,
} from "../rules/model";
import { Button, FieldErrors, inputClass, fieldBase } from "./ui";

interface Props {
  value: GroupNode;
  onChange: (next: GroupNode) => void;
  errors: Map<string, string[]>;
}

/** Nested AND/OR rule editor; every edit goes through the pure model in src/rules. */
export function RuleBuilder({ value, onChange, errors }: Props) {
  return <GroupEditor root={value} group={value} onChange={onChange} errors={errors} depth={0} path="" />;
}

const MODES: GroupOperator[] = ["AND", "OR"];

/** ALL/ANY as a real radio group: one tab stop, arrow keys move and select. */
function MatchMode({
  label,
  value,
  onSelect,
}: {
  label: string;
  value: GroupOperator;
  onSelect: (op: GroupOperator) => void;
}) {
  function onKeyDown(event: KeyboardEvent<HTMLButtonElement>) {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const next = MODES[(MODES.indexOf(value) + step + MODES.length) % MODES.length];
    onSelect(next);
    const group = event.currentTarget.parentElement;
    group?.querySelector<HTMLButtonElement>(`[data-mode="${next}"]`)?.focus();
  }
  return (
    <div
      role="radiogroup"
      aria-label={label}
      className="inline-flex overflow-hidden rounded-md border border-slate-300"
    >
      {MODES.map((op) => (
        <button
          key={op}
          type="button"
          role="radio"
          data-mode={op}
          aria-checked={value === op}
          tabIndex={value === op ? 0 : -1}
          onClick={() => onSelect(op)}
          onKeyDown={onKeyDown}
          className={`px-3 py-1 text-xs font-semibold focus:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-indigo-500 ${value === op ? "bg-indigo-600 text-white" : "bg-white text-slate-700"}`}
        >
          {op === "AND" ? "ALL (AND)" : "ANY (OR)"}
        </button>
      ))}
    </div>
  );
}

function GroupEditor({
  root,
  group,
  onChange,
  errors,
  depth,
  path,
}: {
  root: GroupNode;
  group: GroupNode;
  onChange: (g: GroupNode) => void;
  errors: Map<string, string[]>;
  depth: number;
  /** "2", "2.1": the group's place among its parent's groups, read aloud instead of its id. */
  path: string;
}) {
  const label = depth === 0 ? "Audience rules" : `Group ${path}`;
  const childGroups = group.conditions.filter((n) => n.kind === "group");
  const errorId = `err-${group.id}`;
  return (
    <fieldset
      data-testid={depth === 0 ? "rule-root" : "rule-group"}
      className={`min-w-0 space-y-2 rounded-md border p-3 ${depth === 0 ? "border-slate-300" : "border-indigo-200 bg-indigo-50/40"}`}
      aria-describedby={errors.get(group.id) ? errorId : undefined}
    >
      <legend className="sr-only">{label}</legend>
      <div className="flex flex-wrap items-center gap-2">
        <span className="text-sm text-slate-600">Match</span>
        <MatchMode
          label={`${depth === 0 ? "Top-level" : label} match mode`}
          value={group.operator}
          onSelect={(op) => onChange(setGroupOperator(root, group.id, op))}
        />
        <span className="text-sm text-slate-600">of these</span>
        {depth > 0 && (
          <Button
            variant="ghost"
            className="ml-auto"
            aria-label={`Remove ${label.toLowerCase()}`}
            onClick={() => onChange(removeNode(root, group.id))}
          >
            <Trash2 className="h-4 w-4" aria-hidden /> Remove group
          </Button>
        )}
      </div>
      <FieldErrors id={errorId} messages={errors.get(group.id)} />
      {group.conditions.length === 0 && (
        <p className="text-sm italic text-slate-500">No conditions: everyone matches.</p>
      )}
      <ul className="space-y-2">
        {group.conditions.map((node) => (
          <li key={node.id}>
            {node.kind === "group" ? (
              <GroupEditor
                root={root}
                group={node}
                onChange={onChange}
                errors={errors}
                depth={depth + 1}
                path={`${path ? `${path}.` : ""}${childGroups.indexOf(node) + 1}`}
              />
            ) : (
              <ConditionRow root={root} condition={node} onChange={onChange} errors={errors.get(node.id)} />
            )}
          </li>
        ))}
      </ul>
      <div className="flex flex-wrap gap-2">
        <Button variant="secondary" onClick={() => onChange(addCondition(root, group.id))}>
          <Plus className="h-4 w-4" aria-hidden /> Add condition
        </Button>
        {depth < 7 && (
          <Button
            variant="secondary"
            onClick={() => onChange(addGroup(root, group.id, group.operator === "AND" ? "OR" : "AND"))}
          >
            <FolderPlus className="h-4 w-4" aria-hidden /> Add group
          </Button>
        )}
      </div>
    </fieldset>
  );
}

function ConditionRow({
  root,
  condition,
  onChange,
  errors,
}: {
  root: GroupNode;
  condition: ConditionNode;
  onChange: (g: GroupNode) => void;
  errors?: string[];
}) {
  const meta = fieldMeta(condition.field);
  const id = condition.id;
  const invalid = Boolean(errors?.length);
  const update = (patch: Partial<ConditionNode>) => onChange(updateCondition(root, id, patch));
  return (
    <div data-testid="rule-condition" className="rounded-md border border-slate-200 bg-white p-2">
      <div className="grid grid-cols-1 items-center gap-2 sm:grid-cols-[minmax(0,1fr)_minmax(0,1.25fr)_minmax(0,1.2fr)_auto]">
        <label htmlFor={`${id}-field`} className="sr-only">
          Field
        </label>
        <select
          id={`${id}-field`}
          className={inputClass}
          value={condition.field}
          onChange={(e) => update({ field: e.target.value })}
        >
          {FIELDS.map((f) => (
            <option key={f.name} value={f.name}>
              {f.label}
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-op`} className="sr-only">
          Operator
        </label>
        <select
          id={`${id}-op`}
          className={inputClass}
          value={condition.operator}
          onChange={(e) => update({ operator: e.target.value })}
        >
          {OPERATORS_BY_KIND[meta.kind].map((op) => (
            <option key={op} value={op}>
              {operatorLabel(meta.kind, op)}
            </option>
          ))}
        </select>
        <ValueInput
          condition={condition}
          kind={meta.kind}
          invalid={invalid}
          onValue={(value) => update({ value })}
        />
        <Button
          variant="ghost"
          aria-label={`Remove condition on ${meta.label}`}
          onClick={() => onChange(removeNode(root, id))}
        >
          <Trash2 className="h-4 w-4" aria-hidden />
        </Button>
      </div>
      <FieldErrors id={`${id}-errors`} messages={errors} />
    </div>
  );
}

function ValueInput({
  condition,
  kind,
  invalid,
  onValue,
}: {
  condition: ConditionNode;
  kind: string;
  invalid: boolean;
  onValue: (v: string) => void;
}) {
  const id = `${condition.id}-value`;
  const common = {
    id,
    "aria-invalid": invalid,
    "aria-describedby": invalid ? `${condition.id}-errors` : undefined,
    value: condition.value,
  };
  if (condition.operator === "exists") {
    return (
      <span>
        <label htmlFor={id} className="sr-only">
          Known or unknown
        </label>
        <select {...common} className={inputClass} onChange={(e) => onValue(e.target.value)}>
          <option value="true">is known</option>
          <option value="false">is unknown</option>
        </select>
      </span>
    );
  }
  if (DAY_OPERATORS.includes(condition.operator)) {
    return (
      <span className="flex items-center gap-1">
        <label htmlFor={id} className="sr-only">
          Number of days
        </label>
        <input
          {...common}
          type="number"
          min={0}
          step={1}
          className={`${fieldBase} w-full`}
          onChange={(e) => onValue(e.target.value)}
        />
        <span className="text-sm text-slate-600">days</span>
      </span>
    );
  }
  const isList = condition.operator === "in";
  const dateInput = kind === "date" && !isList;
  return (
    <span>
      <label htmlFor={id} className="sr-only">
        {isList ? "Values, comma separated" : "Value"}
      </label>
      <input
        {...common}
        type={dateInput ? "date" : "text"}
        inputMode={kind === "number" && !isList ? "decimal" : undefined}
        placeholder={isList ? "a, b, c" : kind === "number" ? "0" : "value"}
        className={inputClass}
        onChange={(e) => onValue(e.target.value)}
      />
    </span>
  );
}
