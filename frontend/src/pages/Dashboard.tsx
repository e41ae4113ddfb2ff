import { Link } from "react-router-dom";
import { getCampaignOverview, getCustomerStats, listCampaigns } from "../api/endpoints";
import { DeliveryBars, DeliveryChart } from "../components/Charts";
import {
  Card,
  EmptyState,
  ErrorState,
  ListState,
  Loading,
  PageHeader,
  Stat,
  StatusBadge,
} from "../components/ui";
import { formatCompactMoney, formatDay, formatNumber, formatPercent } from "../format";
import { useAsync } from "../hooks/useAsync";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

export function Dashboard() {
  useDocumentTitle("Dashboard");
  const customers = useAsync(getCustomerStats, []);
  const overview = useAsync(getCampaignOverview, []);
  const recent = useAsync(() => listCampaigns({ page: 1, pageSize: 5 }), []);
  const c = customers.data;
  const o = overview.data;

  return (
    <>
      <PageHeader title="Dashboard" subtitle="Customers, revenue and how your messages are doing." />
      {customers.error ? <ErrorState error={customers.error} onRetry={customers.reload} /> : null}
      {overview.error ? (
        <div className="mt-2">
          <ErrorState error={overview.error} onRetry={overview.reload} />
        </div>
      ) : null}
      <div className="mt-3 grid grid-cols-2 gap-3 md:grid-cols-4 xl:grid-cols-8">
        <Stat label="Customers" value={customers.loading && !c ? "…" : formatNumber(c?.customers)} />
        <Stat label="Orders" value={customers.loading && !c ? "…" : formatNumber(c?.orders)} />
        <Stat label="Revenue" value={customers.loading && !c ? "…" : formatCompactMoney(c?.revenue)} />
        <Stat label="Campaigns" value={overview.loading && !o ? "…" : formatNumber(o?.campaigns)} />
        <Stat label="Sent" value={formatNumber(o?.sent)} />
        <Stat
          label="Delivered"
          value={formatNumber(o?.delivered)}
          hint={o && o.sent ? formatPercent((100 * o.delivered) / o.sent) : undefined}
        />
        <Stat label="Failed" value={formatNumber(o?.failed)} />
        <Stat label="Attributed revenue" value={formatCompactMoney(o?.attributedRevenue)} />
      </div>
      <div className="mt-4 grid gap-4 xl:grid-cols-2">
        <Card title="Messages over time">
          {overview.loading && !o ? (
            <Loading />
          ) : o && o.daily.length > 0 ? (
            o.daily.length < 3 ? (
              <DeliveryBars
                stacked={false}
                showSent
                label="Messages sent, delivered and failed per day"
                data={o.daily.map((d) => ({ ...d, label: formatDay(d.date) }))}
              />
            ) : (
              <DeliveryChart
                label="Messages sent, delivered and failed per day"
                data={o.daily.map((d) => ({ ...d, label: formatDay(d.date) }))}
              />
            )
          ) : (
            <EmptyState title="No messages sent yet" />
          )}
        </Card>
        <Card
          title="Recent campaigns"
          actions={
            <Link className="text-sm text-indigo-700 underline" to="/campaigns">
              All campaigns
            </Link>
          }
        >
          <ListState
            loading={recent.loading}
            error={recent.error}
            items={recent.data?.items}
            onRetry={recent.reload}
            empty={
              <EmptyState title="No campaigns yet">
                <Link className="text-indigo-700 underline" to="/campaigns/new">
                  Create your first campaign
                </Link>
              </EmptyState>
            }
          >
            {(items) => (
              <ul className="divide-y divide-slate-100">
                {items.map((camp) => (
                  <li key={camp.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                    <Link
                      className="font-medium text-indigo-700 hover:underline"
                      to={`/campaigns/${camp.id}`}
                    >
                      {camp.name}
                    </Link>
                    <span className="flex items-center gap-3 text-sm text-slate-600">
                      <StatusBadge status={camp.status} />
                      {formatNumber(camp.delivered)}/{formatNumber(camp.audienceSize ?? camp.sent)} delivered
                      · {formatPercent(camp.deliveryRate)}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </ListState>
        </Card>
      </div>
    </>
  );
}
