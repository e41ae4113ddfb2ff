import { Clock, Sparkles } from "lucide-react";
import { useState, type FormEvent } from "react";
import { messageSuggestions, optimalTiming } from "../api/endpoints";
import type { MessageSuggestion, OptimalTiming } from "../api/types";
import type { RulesJson } from "../rules/model";
import { nextOccurrence } from "../schedule/next";
import { Button, ErrorState, FieldErrors, SourceTag, fieldErrors, inputClass } from "./ui";

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

export function MessageSuggestions({
  rules,
  audienceSize,
  onPick,
}: {
  rules?: RulesJson;
  audienceSize?: number;
  onPick: (m: string) => void;
}) {
  const [objective, setObjective] = useState("");
  const [tone, setTone] = useState("friendly");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [result, setResult] = useState<{ suggestions: MessageSuggestion[]; source: string }>();

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setResult(await messageSuggestions({ objective, tone, rules, audienceSize }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} className="space-y-2" aria-label="AI message suggestions">
      <div className="flex flex-wrap items-end gap-2">
        <div className="min-w-[12rem] flex-1">
          <label htmlFor="ai-objective" className="text-sm font-medium">
            Objective
          </label>
          <input
            id="ai-objective"
            className={inputClass}
            placeholder="win back inactive big spenders"
            value={objective}
            onChange={(e) => setObjective(e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="ai-tone" className="text-sm font-medium">
            Tone
          </label>
          <select id="ai-tone" className={inputClass} value={tone} onChange={(e) => setTone(e.target.value)}>
            {["friendly", "professional", "playful", "urgent"].map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <Button type="submit" variant="secondary" busy={busy} disabled={!objective.trim()}>
          <Sparkles className="h-4 w-4" aria-hidden /> Suggest messages
        </Button>
      </div>
      <FieldErrors messages={fieldErrors(error, "objective")} />
      {error && fieldErrors(error, "objective").length === 0 ? <ErrorState error={error} /> : null}
      {result && (
        <ul className="space-y-2" data-testid="ai-suggestions">
          {result.suggestions.length === 0 && (
            <li className="text-sm text-slate-500">No suggestions came back.</li>
          )}
          {result.suggestions.map((s, i) => (
            <li key={i} className="rounded-md border border-slate-200 p-2 text-sm">
              <p className="whitespace-pre-wrap">{s.message}</p>
              <p className="mt-1 text-xs text-slate-500">
                <SourceTag source={result.source} /> {s.tone} {s.rationale ? `· ${s.rationale}` : ""}
              </p>
              <Button
                variant="secondary"
                className="mt-1"
                onClick={() => onPick(s.message)}
                aria-label={`Use suggestion ${i + 1}`}
              >
                Use this message
              </Button>
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function dayName(day: string | number): string {
  return typeof day === "number" ? (DAYS[day] ?? String(day)) : day;
}

export function TimingHint({ rules, onPick }: { rules?: RulesJson; onPick: (at: Date) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [result, setResult] = useState<OptimalTiming>();

  async function run() {
    setBusy(true);
    setError(undefined);
    try {
      setResult(await optimalTiming(rules));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="space-y-2">
      <Button variant="secondary" busy={busy} onClick={() => void run()}>
        <Clock className="h-4 w-4" aria-hidden /> Best time to send?
      </Button>
      {error ? <ErrorState error={error} /> : null}
      {result && (
        <div className="text-sm" data-testid="timing-hint">
          <p className="text-slate-700">
            <SourceTag source={result.source} /> {result.explanation}
            {result.isDefault && " (general default, not enough history yet)"}
          </p>
          <ul className="mt-1 list-inside list-disc text-slate-700">
            {result.recommendations.slice(0, 3).map((r, i) => {
              // Schedule in the zone most of this hour's engagement came from; with none
              // known ("customer local time" defaults), in the browser's zone.
              const zone =
                r.scheduleZone ?? (r.timezone && r.timezone !== "customer local time" ? r.timezone : null);
              const zoned = zone ? nextOccurrence(r.dayOfWeek, r.hour, zone) : null;
              const at = zoned ?? nextOccurrence(r.dayOfWeek, r.hour, browserZone());
              const share =
                r.scheduleShare != null && r.scheduleShare < 1
                  ? ` (${Math.round(r.scheduleShare * 100)}% of the engagement at this hour)`
                  : "";
              return (
                <li key={i}>
                  {r.label ||
                    `${dayName(r.dayOfWeek)} at ${String(r.hour).padStart(2, "0")}:00 ${r.timezone ?? ""}`}
                  {r.evidenceLabel
                    ? ` · ${r.evidenceLabel}`
                    : r.evidence
                      ? ` · ${r.evidence} engagement events`
                      : ""}
                  {at && (
                    <button
                      type="button"
                      onClick={() => onPick(at)}
                      className="ml-2 text-xs text-indigo-700 underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                    >
                      Schedule for {dayName(r.dayOfWeek)} {String(r.hour).padStart(2, "0")}:00{" "}
                      {zoned ? `${zone} time${share}` : "your time"}
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        </div>
      )}
    </div>
  );
}
