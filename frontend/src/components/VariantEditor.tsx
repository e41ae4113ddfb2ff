import { Plus, Trash2 } from "lucide-react";
import type { Customer, Variant, WinnerSetup } from "../api/types";
import { useMessagePreview } from "../hooks/useMessagePreview";
import { Button, FieldErrors, inputClass } from "./ui";

export interface ExperimentDraft {
  variants: Variant[];
  holdoutShare: number;
  winner?: WinnerSetup;
  attributionDays: number;
}

const IDS = ["A", "B", "C", "D", "E"];

export function newExperiment(message: string): ExperimentDraft {
  return {
    variants: [
      { id: "A", message, share: 50 },
      { id: "B", message: "", share: 50 },
    ],
    holdoutShare: 10,
    attributionDays: 7,
  };
}

/** Problems the server would refuse (422): shown before the launch. */
export function experimentProblems(draft: ExperimentDraft): string[] {
  const problems: string[] = [];
  const total = draft.variants.reduce((sum, v) => sum + v.share, 0);
  if (Math.abs(total - 100) > 0.01 * draft.variants.length)
    problems.push(`Variant shares add up to ${total}%, not 100%.`);
  if (draft.variants.some((v) => !v.message.trim())) problems.push("Every variant needs a message.");
  if (draft.holdoutShare < 0 || draft.holdoutShare > 50) problems.push("The holdout is 0 to 50%.");
  if (draft.winner && !(draft.winner.testShare > 0 && draft.winner.testShare < 100))
    problems.push("The test share is between 0 and 100%.");
  return problems;
}

export function evenShares(count: number): number[] {
  const base = Math.floor(10000 / count) / 100;
  const shares = Array.from({ length: count }, () => base);
  shares[count - 1] = Math.round((100 - base * (count - 1)) * 100) / 100;
  return shares;
}

/** Two to five message variants with their split, a holdout, and an optional test-then-winner. */
export function VariantEditor({
  value,
  onChange,
  sample,
  serverErrors,
}: {
  value: ExperimentDraft;
  onChange: (next: ExperimentDraft) => void;
  sample: Customer | undefined;
  serverErrors: string[];
}) {
  const setVariant = (index: number, patch: Partial<Variant>) =>
    onChange({ ...value, variants: value.variants.map((v, i) => (i === index ? { ...v, ...patch } : v)) });
  const resize = (variants: Variant[]) => {
    const shares = evenShares(variants.length);
    onChange({ ...value, variants: variants.map((v, i) => ({ ...v, id: IDS[i], share: shares[i] })) });
  };
  const problems = experimentProblems(value);

  return (
    <div className="space-y-3" data-testid="variant-editor">
      {value.variants.map((variant, index) => (
        <VariantRow
          key={variant.id}
          variant={variant}
          sample={sample}
          onChange={(patch) => setVariant(index, patch)}
          onRemove={
            value.variants.length > 2 ? () => resize(value.variants.filter((_, i) => i !== index)) : undefined
          }
        />
      ))}
      {value.variants.length < 5 && (
        <Button
          variant="secondary"
          onClick={() => resize([...value.variants, { id: "", message: "", share: 0 }])}
        >
          <Plus className="h-4 w-4" aria-hidden /> Add variant
        </Button>
      )}
      <div className="grid gap-3 sm:grid-cols-2">
        <div>
          <label htmlFor="holdout-share" className="text-sm font-medium">
            Holdout (% of the audience, never messaged)
          </label>
          <input
            id="holdout-share"
            type="number"
            min={0}
            max={50}
            className={inputClass}
            value={value.holdoutShare}
            onChange={(e) => onChange({ ...value, holdoutShare: Number(e.target.value) })}
          />
        </div>
        <div>
          <label htmlFor="attribution-days" className="text-sm font-medium">
            Attribution window (days after delivery)
          </label>
          <input
            id="attribution-days"
            type="number"
            min={1}
            max={90}
            className={inputClass}
            value={value.attributionDays}
            onChange={(e) => onChange({ ...value, attributionDays: Number(e.target.value) })}
          />
        </div>
      </div>
      <fieldset className="rounded-md border border-slate-200 p-3">
        <legend className="px-1 text-sm font-medium">Test, then send the winner</legend>
        <label className="flex items-center gap-2 text-sm">
          <input
            type="checkbox"
            checked={Boolean(value.winner)}
            onChange={(e) =>
              onChange({
                ...value,
                winner: e.target.checked
                  ? { metric: "conversionRate", testShare: 20, afterSeconds: 3600 }
                  : undefined,
              })
            }
          />
          Send the variants to a test share first, then the winner to the rest
        </label>
        {value.winner && (
          <div className="mt-2 grid gap-3 sm:grid-cols-3">
            <div>
              <label htmlFor="winner-metric" className="text-sm font-medium">
                Pick by
              </label>
              <select
                id="winner-metric"
                className={inputClass}
                value={value.winner.metric}
                onChange={(e) =>
                  onChange({
                    ...value,
                    winner: { ...value.winner!, metric: e.target.value as WinnerSetup["metric"] },
                  })
                }
              >
                <option value="conversionRate">Conversion rate</option>
                <option value="deliveryRate">Delivery rate</option>
              </select>
            </div>
            <div>
              <label htmlFor="winner-test-share" className="text-sm font-medium">
                Test share (%)
              </label>
              <input
                id="winner-test-share"
                type="number"
                min={1}
                max={99}
                className={inputClass}
                value={value.winner.testShare}
                onChange={(e) =>
                  onChange({ ...value, winner: { ...value.winner!, testShare: Number(e.target.value) } })
                }
              />
            </div>
            <div>
              <label htmlFor="winner-after" className="text-sm font-medium">
                Decide after (minutes)
              </label>
              <input
                id="winner-after"
                type="number"
                min={1}
                className={inputClass}
                value={Math.round(value.winner.afterSeconds / 60)}
                onChange={(e) =>
                  onChange({
                    ...value,
                    winner: { ...value.winner!, afterSeconds: Math.max(1, Number(e.target.value)) * 60 },
                  })
                }
              />
            </div>
            <p className="text-xs text-slate-500 sm:col-span-3">
              If no variant beats A with 95% confidence, A is sent to the rest.
            </p>
          </div>
        )}
      </fieldset>
      <FieldErrors messages={[...problems, ...serverErrors]} />
    </div>
  );
}

function VariantRow({
  variant,
  sample,
  onChange,
  onRemove,
}: {
  variant: Variant;
  sample: Customer | undefined;
  onChange: (patch: Partial<Variant>) => void;
  onRemove?: () => void;
}) {
  const preview = useMessagePreview(variant.message, sample);
  const fieldId = `variant-${variant.id}`;
  return (
    <div className="rounded-md border border-slate-200 p-3" data-testid={`variant-${variant.id}`}>
      <div className="flex flex-wrap items-end gap-3">
        <span className="text-lg font-semibold" aria-hidden>
          {variant.id}
        </span>
        <div className="w-32">
          <label htmlFor={`${fieldId}-share`} className="text-xs font-medium">
            Variant {variant.id} share (%)
          </label>
          <input
            id={`${fieldId}-share`}
            type="number"
            min={1}
            max={100}
            className={inputClass}
            value={variant.share}
            onChange={(e) => onChange({ share: Number(e.target.value) })}
          />
        </div>
        {onRemove && (
          <Button variant="secondary" onClick={onRemove} aria-label={`Remove variant ${variant.id}`}>
            <Trash2 className="h-4 w-4" aria-hidden />
          </Button>
        )}
      </div>
      <label htmlFor={`${fieldId}-message`} className="mt-2 block text-xs font-medium">
        Variant {variant.id} message
      </label>
      <textarea
        id={`${fieldId}-message`}
        rows={2}
        className={inputClass}
        value={variant.message}
        aria-invalid={!preview.stale && preview.errors.length > 0}
        onChange={(e) => onChange({ message: e.target.value })}
      />
      <FieldErrors messages={variant.message && !preview.stale ? preview.errors : []} />
      {preview.preview && !preview.stale && (
        <p className="mt-1 text-xs text-slate-600" data-testid={`variant-${variant.id}-preview`}>
          {sample?.name ?? "A customer"} reads: <span className="text-slate-800">{preview.preview.text}</span>
        </p>
      )}
    </div>
  );
}
