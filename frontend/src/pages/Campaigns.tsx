import { Plus } from "lucide-react";
import { useState } from "react";
import { Link } from "react-router-dom";
import { listCampaigns } from "../api/endpoints";
import { Pager } from "../components/Pager";
import { Card, EmptyState, ListState, PageHeader, StatusBadge } from "../components/ui";
import { formatDate, formatNumber, formatPercent } from "../format";
import { useAsync, useInterval } from "../hooks/useAsync";
import { StatusFilter } from "../components/StatusFilter";

const PAGE_SIZE = 20;
const STATUSES = ["", "scheduled", "launching", "running", "paused", "completed", "cancelled"];

export function Campaigns() {
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState("");
  const campaigns = useAsync(
    () => listCampaigns({ page, pageSize: PAGE_SIZE, status: status || undefined }),
    [page, status],
  );
  const active = campaigns.data?.items.some((c) => ["launching", "running", "scheduled"].includes(c.status));
  useInterval(campaigns.reload, active ? 3000 : null);

  return (
    <>
      <PageHeader
        title="Campaigns"
        subtitle="Newest first."
        actions={
          <Link
            to="/campaigns/new"
            className="inline-flex items-center gap-1.5 rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
          >
            <Plus className="h-4 w-4" aria-hidden /> New campaign
          </Link>
        }
      />
      <Card>
        <StatusFilter
          id="campaign-status"
          value={status}
          options={STATUSES}
          onChange={(next) => {
            setStatus(next);
            setPage(1);
          }}
        />
        <ListState
          loading={campaigns.loading}
          error={campaigns.error}
          items={campaigns.data?.items}
          onRetry={campaigns.reload}
          empty={
            <EmptyState title={status ? `No ${status} campaigns` : "No campaigns yet"}>
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
