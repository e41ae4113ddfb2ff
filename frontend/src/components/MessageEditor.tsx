import { useRef } from "react";
import { FORMATTED, PLACEHOLDERS } from "../template/render";
import type { Customer } from "../api/types";
import type { MessagePreviewState } from "../hooks/useMessagePreview";
import { FieldErrors, inputClass } from "./ui";

const chipClass =
  "rounded-full border border-indigo-200 bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-800 hover:bg-indigo-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";

/** Message textarea with placeholder chips and the server-rendered preview for one sample customer. */
export function MessageEditor({
  value,
  onChange,
  sample,
  preview,
  serverErrors,
}: {
  value: string;
  onChange: (v: string) => void;
  sample: Customer | undefined;
  preview: MessagePreviewState;
  serverErrors: string[];
}) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const templateErrors = value && !preview.stale ? preview.errors : [];
  const segments = preview.preview?.segments ?? [];

  function insert(name: string) {
    const area = ref.current;
    const token = `{${name}}`;
    if (!area) return onChange(value + token);
    const start = area.selectionStart ?? value.length;
    const end = area.selectionEnd ?? value.length;
    onChange(value.slice(0, start) + token + value.slice(end));
    requestAnimationFrame(() => {
      area.focus();
      area.setSelectionRange(start + token.length, start + token.length);
    });
  }

  return (
    <div className="space-y-2">
      <label htmlFor="campaign-message" className="text-sm font-medium">
        Message text
      </label>
      <div className="flex flex-wrap gap-1" role="group" aria-label="Insert a placeholder">
        {[...PLACEHOLDERS, ...FORMATTED].map((p) => (
          <button key={p} type="button" onClick={() => insert(p)} className={chipClass}>
            {`{${p}}`}
          </button>
        ))}
      </div>
      <textarea
        id="campaign-message"
        ref={ref}
        rows={4}
        className={inputClass}
        value={value}
        aria-invalid={templateErrors.length + serverErrors.length > 0}
        aria-describedby="campaign-message-errors"
        onChange={(e) => onChange(e.target.value)}
        placeholder="Hi {firstName}, here is 10% off your next order!"
      />
      <p className="text-right text-xs text-slate-500">{value.length}/2000</p>
      <FieldErrors id="campaign-message-errors" messages={[...templateErrors, ...serverErrors]} />
      <div className="rounded-md border border-slate-200 bg-slate-50 p-3">
        <p className="mb-1 text-xs uppercase tracking-wide text-slate-500">
          Preview {sample ? `for ${sample.name || sample.id}` : "(no sample customer yet)"}
          {preview.preview ? ` · ${preview.preview.currency}, ${preview.preview.locale}` : ""}
          {preview.stale || preview.loading ? " · updating…" : ""}
        </p>
        <p className="whitespace-pre-wrap text-sm" data-testid="message-preview" aria-live="polite">
          {!value.trim() && <span className="italic text-slate-500">Your message appears here.</span>}
          {value.trim() && preview.failed && (
            <span className="italic text-slate-500">The preview is unavailable right now.</span>
          )}
          {value.trim() &&
            segments.map((s, i) =>
              s.kind === "text" ? (
                <span key={i}>{s.text}</span>
              ) : s.kind === "value" ? (
                <mark key={i} className="rounded bg-emerald-100 px-0.5">
                  {s.text}
                </mark>
              ) : (
                <mark
                  key={i}
                  className="rounded bg-rose-100 px-0.5 italic text-rose-900"
                  title='No value for this customer: the message shows nothing here. Add |default:"…" to say something else.'
                >
                  (empty)
                </mark>
              ),
            )}
        </p>
      </div>
    </div>
  );
}
