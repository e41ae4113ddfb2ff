import { useState, type FormEvent } from "react";
import { listAudit } from "../api/endpoints";
import type { AuditEntry } from "../api/types";
import { Button, Card, EmptyState, ErrorState, ListState, PageHeader, fieldBase } from "../components/ui";
import { formatDate } from "../format";
import { useAsync } from "../hooks/useAsync";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

const PAGE = 50;
const OUTCOMES = ["", "ok", "refused", "rejected", "failed"];
const OUTCOME_STYLE: Record<string, string> = {
  ok: "bg-emerald-100 text-emerald-900",
  refused: "bg-amber-100 text-amber-900",
  rejected: "bg-slate-200 text-slate-900",
  failed: "bg-red-100 text-red-900",
};

interface Filters {
  action: string;
  actor: string;
  target: string;
  outcome: string;
}

const NO_FILTERS: Filters = { action: "", actor: "", target: "", outcome: "" };

export function Audit() {
  useDocumentTitle("Audit log");
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [before, setBefore] = useState<number[]>([]); // the cursors of the pages behind
  const cursor = before[before.length - 1];
  const page = useAsync(
    () => listAudit({ ...filters, before: cursor, limit: PAGE }),
    [filters.action, filters.actor, filters.target, filters.outcome, cursor],
  );

  function apply(event: FormEvent) {
    event.preventDefault();
    setBefore([]);
    setFilters({ ...draft });
  }

  const field = (name: keyof Filters, label: string, placeholder: string) => (
    <div>
      <label htmlFor={`audit-${name}`} className="block text-xs font-medium text-slate-700">
        {label}
      </label>
      <input
        id={`audit-${name}`}
        className={fieldBase}
        value={draft[name]}
        placeholder={placeholder}
        onChange={(e) => setDraft((d) => ({ ...d, [name]: e.target.value }))}
      />
    </div>
  );

  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle="Every change made through the gateway: who, when, what, to what, and how it ended. Entries are never changed or deleted."
      />
      <Card>
        <form
          onSubmit={apply}
          className="mb-3 flex flex-wrap items-end gap-3"
          aria-label="Filter the audit log"
        >
          {field("action", "Action", "campaign.cancelled")}
          {field("actor", "Who (email or user id)", "ann@example.com")}
          {field("target", "Target id", "cmp_…")}
          <div>
            <label htmlFor="audit-outcome" className="block text-xs font-medium text-slate-700">
              Outcome
            </label>
            <select
              id="audit-outcome"
              className={fieldBase}
              value={draft.outcome}
              onChange={(e) => setDraft((d) => ({ ...d, outcome: e.target.value }))}
            >
              {OUTCOMES.map((o) => (
                <option key={o} value={o}>
                  {o || "any"}
                </option>
              ))}
            </select>
          </div>
          <Button type="submit">Filter</Button>
        </form>
        {page.error ? <ErrorState error={page.error} onRetry={page.reload} /> : null}
        <ListState
          loading={page.loading}
          error={undefined}
          items={page.data?.items}
          onRetry={page.reload}
          empty={<EmptyState title="No entries match" />}
        >
          {(items) => <AuditTable items={items} />}
        </ListState>
        <div className="mt-3 flex gap-2">
          <Button
            variant="secondary"
            disabled={before.length === 0}
            onClick={() => setBefore((b) => b.slice(0, -1))}
          >
            Newer
          </Button>
          <Button
            variant="secondary"
            disabled={!page.data?.nextBefore}
            onClick={() => page.data?.nextBefore && setBefore((b) => [...b, page.data!.nextBefore!])}
          >
            Older
          </Button>
        </div>
      </Card>
    </>
  );
}

function AuditTable({ items }: { items: AuditEntry[] }) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm" data-testid="audit-table">
        <thead className="text-xs uppercase text-slate-500">
          <tr>
            <th scope="col" className="py-1 pr-3">
              When
            </th>
            <th scope="col" className="py-1 pr-3">
              Who
            </th>
            <th scope="col" className="py-1 pr-3">
              Action
            </th>
            <th scope="col" className="py-1 pr-3">
              Target
            </th>
            <th scope="col" className="py-1">
              Outcome
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {items.map((e) => (
            <tr key={e.id} data-testid="audit-row">
              <td className="whitespace-nowrap py-2 pr-3 text-slate-600">{formatDate(e.at)}</td>
              <td className="py-2 pr-3">
                {e.actor.email ?? "anonymous"}
                <span className="block text-xs text-slate-500">
                  {e.actor.via === "key" ? `API key ${e.actor.keyId ?? ""}` : (e.actor.role ?? "")}
                </span>
              </td>
              <td className="py-2 pr-3">
                <code data-testid="audit-action">{e.action}</code>
                <span className="block text-xs text-slate-500">
                  {e.method} {e.path}
                </span>
              </td>
              <td className="py-2 pr-3">
                <code>{e.target ?? "—"}</code>
              </td>
              <td className="py-2">
                <span
                  className={`rounded px-2 py-0.5 text-xs font-semibold ${OUTCOME_STYLE[e.outcome] ?? ""}`}
                >
                  {e.outcome} · {e.status}
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
