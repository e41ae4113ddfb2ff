import { fieldBase } from "./ui";

/** An inclusive range of UTC days, ISO "YYYY-MM-DD" (what the overview API takes). */
export interface DayRange {
  from: string;
  to: string;
}

export const PRESETS = [7, 30, 90] as const;
const DAY_MS = 86_400_000;

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The last `days` UTC days, today included. */
export function lastDays(days: number, now: number = Date.now()): DayRange {
  return { from: isoDay(now - (days - 1) * DAY_MS), to: isoDay(now) };
}

export function rangeProblem(range: DayRange): string | null {
  if (!range.from || !range.to) return "Choose both dates.";
  if (range.from > range.to) return "The start date is after the end date.";
  const days = (Date.parse(range.to) - Date.parse(range.from)) / DAY_MS + 1;
  if (days > 366) return "Choose at most 366 days.";
  return null;
}

export function DateRangeControl({
  value,
  onChange,
}: {
  value: DayRange;
  onChange: (range: DayRange) => void;
}) {
  const problem = rangeProblem(value);
  const active = PRESETS.find((n) => {
    const preset = lastDays(n);
    return preset.from === value.from && preset.to === value.to;
  });
  return (
    <fieldset
      className="flex flex-wrap items-end gap-3"
      aria-describedby={problem ? "range-problem" : undefined}
    >
      <legend className="sr-only">Date range</legend>
      <div className="flex gap-1" role="group" aria-label="Preset ranges">
        {PRESETS.map((n) => (
          <button
            key={n}
            type="button"
            aria-pressed={active === n}
            onClick={() => onChange(lastDays(n))}
            className={`rounded-md border px-3 py-1.5 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 ${
              active === n
                ? "border-indigo-600 bg-indigo-600 text-white"
                : "border-slate-300 bg-white text-slate-800 hover:bg-slate-100"
            }`}
          >
            {n} days
          </button>
        ))}
      </div>
      <label className="flex flex-col text-xs font-medium text-slate-700">
        From
        <input
          type="date"
          className={fieldBase}
          value={value.from}
          max={value.to || undefined}
          aria-invalid={problem ? true : undefined}
          onChange={(e) => onChange({ ...value, from: e.target.value })}
        />
      </label>
      <label className="flex flex-col text-xs font-medium text-slate-700">
        To
        <input
          type="date"
          className={fieldBase}
          value={value.to}
          min={value.from || undefined}
          aria-invalid={problem ? true : undefined}
          onChange={(e) => onChange({ ...value, to: e.target.value })}
        />
      </label>
      {problem && (
        <p id="range-problem" role="alert" className="text-sm text-rose-700">
          {problem}
        </p>
      )}
    </fieldset>
  );
}
