import { Loader2, Users } from "lucide-react";
import { Link } from "react-router-dom";
import type { AudiencePreview } from "../hooks/useAudiencePreview";
import { fieldMeta } from "../rules/fields";
import { formatDay, formatNumber } from "../format";
import { EmptyState, ErrorState } from "./ui";

function cell(field: string, value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (Array.isArray(value)) return value.join(", ");
  if (fieldMeta(field).kind === "date") return formatDay(String(value));
  if (typeof value === "number") return formatNumber(value);
  return String(value);
}

export function AudiencePreviewPanel({ state }: { state: AudiencePreview }) {
  const { preview, loading, error, nodeErrors } = state;
  const blocked = nodeErrors.size > 0;
  const fields = (preview?.fields ?? []).filter((f) => !["id", "name", "email"].includes(f));
  return (
    <div aria-live="polite">
      <div className="flex items-center gap-3">
        <Users className="h-6 w-6 text-indigo-600" aria-hidden />
        <div>
          <p className="text-xs uppercase tracking-wide text-slate-500">Matching customers</p>
          <p className="text-3xl font-bold tabular-nums" data-testid="audience-count">
            {/* a count for other rules must not stand beside "fix the highlighted conditions" */}
            {preview && !blocked ? formatNumber(preview.count) : "—"}
          </p>
        </div>
        {loading && !blocked && (
          <Loader2 className="h-5 w-5 animate-spin text-slate-400" aria-label="Updating" />
        )}
      </div>
      {preview?.excluded && !blocked && (
        <p className="mt-1 text-sm text-slate-600" data-testid="audience-excluded">
          Left out{preview.channel ? ` for ${preview.channel}` : ""}:{" "}
          {formatNumber(preview.excluded.unsubscribed)} unsubscribed,{" "}
          {formatNumber(preview.excluded.suppressed)} suppressed
        </p>
      )}
      {blocked && (
        <p className="mt-2 text-sm text-amber-700">Fix the highlighted conditions to update the count.</p>
      )}
      {error && !blocked ? (
        <div className="mt-2">
          <ErrorState error={error} />
        </div>
      ) : null}
      {preview && !blocked && (
        <div className="mt-3">
          {preview.sample.length === 0 ? (
            <EmptyState title="Nobody matches these rules" />
          ) : (
            <div className="overflow-x-auto">
              <table className="w-full text-left text-sm" aria-label="Sample of matching customers">
                <thead className="text-xs uppercase text-slate-500">
                  <tr>
                    <th scope="col" className="py-1 pr-2">
                      Customer
                    </th>
                    {fields.map((f) => (
                      <th scope="col" key={f} className="py-1 pr-2">
                        {fieldMeta(f).label}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {preview.sample.map((c) => (
                    <tr key={c.id}>
                      <td className="py-1 pr-2">
                        <Link
                          to={`/customers/${encodeURIComponent(c.id)}`}
                          className="text-indigo-700 hover:underline"
                        >
                          {c.name || c.id}
                        </Link>
                        <div className="text-xs text-slate-500">{c.email}</div>
                      </td>
                      {fields.map((f) => (
                        <td key={f} className="py-1 pr-2">
                          {cell(f, c[f])}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </div>
  );
}
