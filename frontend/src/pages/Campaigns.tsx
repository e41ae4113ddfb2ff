import { Download, Plus } from "lucide-react";
import { useState } from "react";
import { Link } from "react-router-dom";
import { listCampaigns } from "../api/endpoints";
import { Pager } from "../components/Pager";
import {
  Button,
  Card,
  EmptyState,
  ErrorState,
  ListState,
  PageHeader,
  StatusBadge,
  inputClass,
} from "../components/ui";
import { campaignsCsv } from "../campaigns/csv";
import type { Campaign } from "../api/types";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { formatDate, formatNumber, formatPercent } from "../format";
import { useAsync, useDebounced, useInterval } from "../hooks/useAsync";
import { StatusFilter } from "../components/StatusFilter";

const PAGE_SIZE = 20;
const STATUSES = ["", "scheduled", "launching", "running", "paused", "completed", "cancelled"];

/** Every campaign matching the filters, page by page, as a CSV download. */
async function exportCsv(status: string, q: string): Promise<void> {
  const items: Campaign[] = [];
  for (let page = 1; ; page++) {
    const batch = await listCampaigns({
      page,
      pageSize: 100,
      status: status || undefined,
      q: q || undefined,
    });
    items.push(...batch.items);
    if (batch.items.length === 0 || items.length >= batch.total) break;
  }
  const url = URL.createObjectURL(new Blob([campaignsCsv(items)], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `campaigns-${new Date().toISOString().slice(0, 10)}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function Campaigns() {
  useDocumentTitle("Campaigns");
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState("");
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim(), 300);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<unknown>();
  const campaigns = useAsync(
    () => listCampaigns({ page, pageSize: PAGE_SIZE, status: status || undefined, q: q || undefined }),
    [page, status, q],
  );
  async function onExport() {
    setExporting(true);
    setExportError(undefined);
    try {
      await exportCsv(status, q);
    } catch (err) {
      setExportError(err);
    } finally {
      setExporting(false);
    }
  }
  const active = campaigns.data?.items.some((c) => ["launching", "running", "scheduled"].includes(c.status));
  useInterval(campaigns.reload, active ? 3000 : null);

  return (
    <>
      <PageHeader
        title="Campaigns"
        subtitle="Newest first."
        actions={
          <>
            <Button variant="secondary" busy={exporting} onClick={() => void onExport()}>
              <Download className="h-4 w-4" aria-hidden /> Export CSV
            </Button>
            <Link
              to="/campaigns/new"
              className="inline-flex items-center gap-1.5 rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
            >
              <Plus className="h-4 w-4" aria-hidden /> New campaign
            </Link>
          </>
        }
      />
      <Card>
        {exportError ? <ErrorState error={exportError} /> : null}
        <div className="flex flex-wrap items-start gap-x-4">
          <div className="mb-3 w-full sm:w-72">
            <label htmlFor="campaign-search" className="sr-only">
              Search campaigns by name
            </label>
            <input
              id="campaign-search"
              type="search"
              className={inputClass}
              placeholder="Search by name…"
              value={search}
              onChange={(e) => {
                setSearch(e.target.value);
                setPage(1);
              }}
            />
          </div>
          <StatusFilter
            id="campaign-status"
            value={status}
            options={STATUSES}
            onChange={(next) => {
              setStatus(next);
              setPage(1);
            }}
          />
        </div>
        <ListState
          loading={campaigns.loading}
          error={campaigns.error}
          items={campaigns.data?.items}
          onRetry={campaigns.reload}
          empty={
            <EmptyState
              title={q ? `No campaigns match “${q}”` : status ? `No ${status} campaigns` : "No campaigns yet"}
            >
              <Link className="text-indigo-700 underline" to="/campaigns/new">
                Create one
              </Link>
            </EmptyState>
          }
        >
          {(items) => (
            <div className="overflow-x-auto">
              <table className="w-full text-left text-sm">
                <caption className="sr-only">Campaign history</caption>
                <thead className="border-b border-slate-200 text-xs uppercase text-slate-500">
                  <tr>
                    <th scope="col" className="py-2 pr-3">
                      Campaign
                    </th>
                    <th scope="col" className="py-2 pr-3">
                      Status
                    </th>
                    <th scope="col" className="py-2 pr-3 text-right">
                      Audience
                    </th>
                    <th scope="col" className="hidden py-2 pr-3 text-right sm:table-cell">
                      Sent
                    </th>
                    <th scope="col" className="hidden py-2 pr-3 text-right sm:table-cell">
                      Delivered
                    </th>
                    <th scope="col" className="hidden py-2 pr-3 text-right sm:table-cell">
                      Failed
                    </th>
                    <th scope="col" className="py-2 pr-3 text-right">
                      Rate
                    </th>
                    <th scope="col" className="hidden py-2 pr-3 lg:table-cell">
                      Tags
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {items.map((c) => (
                    <tr key={c.id} data-testid="campaign-row">
                      <td className="py-2 pr-3">
                        <Link
                          className="font-medium text-indigo-700 hover:underline"
                          to={`/campaigns/${c.id}`}
                        >
                          {c.name}
                        </Link>
                        <div className="text-xs text-slate-500">{formatDate(c.createdAt)}</div>
                      </td>
                      <td className="py-2 pr-3">
                        <StatusBadge status={c.status} />
                      </td>
                      <td className="py-2 pr-3 text-right tabular-nums">{formatNumber(c.audienceSize)}</td>
                      <td className="hidden py-2 pr-3 text-right tabular-nums sm:table-cell">
                        {formatNumber(c.sent)}
                      </td>
                      <td className="hidden py-2 pr-3 text-right tabular-nums sm:table-cell">
                        {formatNumber(c.delivered)}
                      </td>
                      <td className="hidden py-2 pr-3 text-right tabular-nums sm:table-cell">
                        {formatNumber(c.failed)}
                      </td>
                      <td className="py-2 pr-3 text-right tabular-nums">{formatPercent(c.deliveryRate)}</td>
                      <td className="hidden py-2 pr-3 lg:table-cell">
                        <span className="flex flex-wrap gap-1">
                          {(c.tags ?? []).map((t) => (
                            <span key={t} className="rounded-full bg-slate-200 px-2 py-0.5 text-xs">
                              {t}
                            </span>
                          ))}
                        </span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </ListState>
        {campaigns.data && campaigns.data.total > 0 && (
          <Pager page={page} pageSize={PAGE_SIZE} total={campaigns.data.total} onPage={setPage} />
        )}
      </Card>
    </>
  );
}
