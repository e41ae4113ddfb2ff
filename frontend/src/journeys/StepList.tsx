// A journey's steps as a vertical list; a branch's two arms are indented under it.
// Editable (the composer) or read-only with live counts per step (the journey page).
import { Trash2 } from "lucide-react";
import type { JourneyStep, StepStats } from "../api/journeys";
import { Button, inputClass } from "../components/ui";
import { formatNumber } from "../format";

export type StepType = JourneyStep["type"];

export function newStep(type: StepType, id: string): JourneyStep {
  switch (type) {
    case "wait":
      return { id, type, seconds: 3600 };
    case "send":
      return { id, type, channel: "sms", message: "Hi {firstName}!" };
    case "branch":
      return { id, type, orderedSinceEntry: true, then: [], else: [] };
    default:
      return { id, type: "exit" };
  }
}

interface Props {
  steps: JourneyStep[];
  onChange?: (steps: JourneyStep[]) => void;
  nextId?: () => string;
  stats?: Record<string, StepStats>;
  label: string;
}

export function StepList({ steps, onChange, nextId, stats, label }: Props) {
  const editable = Boolean(onChange && nextId);
  const replace = (index: number, step: JourneyStep) =>
    onChange?.(steps.map((s, i) => (i === index ? step : s)));
  const remove = (index: number) => onChange?.(steps.filter((_, i) => i !== index));
  return (
    <div>
      <ol className="space-y-2" aria-label={label}>
        {steps.map((step, index) => (
          <li
            key={step.id}
            className="rounded-md border border-slate-200 bg-slate-50 p-3"
            data-testid={`step-${step.id}`}
          >
            <div className="flex flex-wrap items-center gap-2">
              <span className="rounded bg-slate-200 px-2 py-0.5 text-xs font-semibold uppercase text-slate-700">
                {step.type}
              </span>
              <span className="text-xs text-slate-500">{step.id}</span>
              {stats?.[step.id] && <Counts stats={stats[step.id]} />}
              {editable && (
                <Button
                  variant="ghost"
                  className="ml-auto"
                  aria-label={`Remove step ${step.id}`}
                  onClick={() => remove(index)}
                >
                  <Trash2 className="h-4 w-4" aria-hidden />
                </Button>
              )}
            </div>
            <StepFields step={step} editable={editable} onChange={(s) => replace(index, s)} />
            {step.type === "branch" && (
              <div className="mt-2 space-y-2 border-l-2 border-indigo-200 pl-4">
                <p className="text-xs font-medium text-slate-600">Then</p>
                <StepList
                  label={`${step.id}: then`}
                  steps={step.then}
                  stats={stats}
                  nextId={nextId}
                  onChange={onChange && ((then) => replace(index, { ...step, then }))}
                />
                <p className="text-xs font-medium text-slate-600">Else</p>
                <StepList
                  label={`${step.id}: else`}
                  steps={step.else}
                  stats={stats}
                  nextId={nextId}
                  onChange={onChange && ((otherwise) => replace(index, { ...step, else: otherwise }))}
                />
              </div>
            )}
          </li>
        ))}
      </ol>
      {editable && (
        <AddStep label={label} onAdd={(type) => onChange?.([...steps, newStep(type, nextId!())])} />
      )}
    </div>
  );
}

function Counts({ stats }: { stats: StepStats }) {
  return (
    <span className="text-xs text-slate-600" data-testid={`count-${stats.id}`}>
      {formatNumber(stats.entered)} entered · {formatNumber(stats.waiting)} waiting
      {stats.sent ? ` · ${formatNumber(stats.sent)} sent` : ""}
      {stats.failed ? ` · ${formatNumber(stats.failed)} failed` : ""}
    </span>
  );
}

function AddStep({ label, onAdd }: { label: string; onAdd: (type: StepType) => void }) {
  return (
    <div className="mt-2 flex flex-wrap gap-1" role="group" aria-label={`Add a step to ${label}`}>
      {(["wait", "send", "branch", "exit"] as StepType[]).map((type) => (
        <Button key={type} variant="secondary" onClick={() => onAdd(type)}>
          + {type}
        </Button>
      ))}
    </div>
  );
}

function StepFields({
  step,
  editable,
  onChange,
}: {
  step: JourneyStep;
  editable: boolean;
  onChange: (step: JourneyStep) => void;
}) {
  const id = `step-${step.id}`;
  if (step.type === "wait") {
    if (!editable)
      return <p className="mt-1 text-sm">{step.until ? `until ${step.until}` : `${step.seconds} s`}</p>;
    return (
      <label className="mt-2 block text-sm" htmlFor={`${id}-seconds`}>
        Wait (seconds)
        <input
          id={`${id}-seconds`}
          type="number"
          min={1}
          className={inputClass}
          value={step.seconds ?? ""}
          onChange={(e) => onChange({ id: step.id, type: "wait", seconds: Number(e.target.value) })}
        />
      </label>
    );
  }
  if (step.type === "send") {
    if (!editable)
      return (
        <p className="mt-1 text-sm">
          {step.channel}: {step.message}
        </p>
      );
    return (
      <div className="mt-2 grid gap-2 sm:grid-cols-[8rem_1fr]">
        <label className="text-sm" htmlFor={`${id}-channel`}>
          Channel
          <select
            id={`${id}-channel`}
            className={inputClass}
            value={step.channel}
            onChange={(e) => onChange({ ...step, channel: e.target.value as "sms" | "email" })}
          >
            <option value="sms">SMS</option>
            <option value="email">Email</option>
          </select>
        </label>
        <label className="text-sm" htmlFor={`${id}-message`}>
          Message
          <input
            id={`${id}-message`}
            className={inputClass}
            value={step.message}
            onChange={(e) => onChange({ ...step, message: e.target.value })}
          />
        </label>
      </div>
    );
  }
  if (step.type === "branch") {
    return <p className="mt-1 text-sm">If the customer ordered again since entering</p>;
  }
  return null;
}
