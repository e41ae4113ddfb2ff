import { useState } from "react";
import { Link } from "react-router-dom";
import { getCampaignOverview, getCustomerStats, listCampaigns } from "../api/endpoints";
import type { Campaign, CampaignOverview, Page, TopCampaign } from "../api/types";
import { TrendChart, type TrendSeries } from "../components/Charts";
import { DateRangeControl, lastDays, rangeProblem, type DayRange } from "../components/DateRange";
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
import { formatCompactMoney, formatDay, formatIsoDay, formatNumber, formatPercent } from "../format";
import { useAsync, type AsyncState } from "../hooks/useAsync";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

const DEFAULT_DAYS = 30;
const percentTick = (v: number) => `${v}%`;
const numberTick = (v: number) => formatNumber(v);
/** Axis ticks and narrow cards: 100000 → "100K". */
const compact = (v: number | undefined) =>
  v === undefined ? "—" : v.toLocaleString("en-US", { notation: "compact", maximumFractionDigits: 1 });

export function Dashboard() {
  useDocumentTitle("Dashboard");
  const [range, setRange] = useState<DayRange>(() => lastDays(DEFAULT_DAYS));
  const valid = rangeProblem(range) === null;
  const customers = useAsync(getCustomerStats, []);
  // An invalid range keeps the last answer on screen; the control says what is wrong.
  const overview = useAsync(
    () => (valid ? getCampaignOverview(range) : Promise.reject(new Error("invalid range"))),
    [range.from, range.to],
  );
  const recent = useAsync(() => listCampaigns({ page: 1, pageSize: 5 }), []);
  const c = customers.data;
  const o = overview.data;

  return (
    <>
      <PageHeader title="Dashboard" subtitle="Customers, revenue and how your messages are doing." />
      {customers.error ? <ErrorState error={customers.error} onRetry={customers.reload} /> : null}
      {overview.error && valid ? (
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
        <Stat
          label="Attributed revenue"
          value={
            (o?.attributedRevenue ?? 0) >= 100_000
              ? compact(o?.attributedRevenue)
              : formatCompactMoney(o?.attributedRevenue)
          }
        />
      </div>
      <section aria-labelledby="over-time" className="mt-6">
        <div className="mb-3 flex flex-wrap items-end justify-between gap-3">
          <h2 id="over-time" className="text-lg font-semibold text-slate-900">
            Over time
            {o?.from && o.to ? (
              <span className="ml-2 text-sm font-normal text-slate-600" data-testid="range-label">
                {formatIsoDay(o.from)} – {formatIsoDay(o.to)}
              </span>
            ) : null}
          </h2>
          <DateRangeControl value={range} onChange={setRange} />
        </div>
        <RangeStats overview={o} loading={overview.loading && !o} />
        <div className="mt-4 grid gap-4 xl:grid-cols-2">
          <TrendCards overview={o} loading={overview.loading && !o} />
          <Card title="Top campaigns" data-testid="top-campaigns">
            {overview.loading && !o ? <Loading /> : <TopCampaigns items={o?.topCampaigns ?? []} />}
          </Card>
          <RecentCampaigns recent={recent} />
        </div>
      </section>
    </>
  );
}

function RangeStats({ overview: o, loading }: { overview?: CampaignOverview; loading: boolean }) {
  const r = o?.range;
  const show = (text: string) => (loading ? "…" : text);
  return (
    <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
      <Stat label="Messages sent in range" value={show(formatNumber(r?.sent))} />
      <Stat label="Delivery rate in range" value={show(r && r.sent ? formatPercent(r.deliveryRate) : "—")} />
      <Stat label="Revenue in range" value={show(formatCompactMoney(r?.revenue))} />
      <Stat label="New customers in range" value={show(formatNumber(r?.newCustomers))} />
    </div>
  );
}

/** One card per trend: what it shows, and when the range has nothing to show. */
const TRENDS: {
  title: string;
  testId: string;
  empty: (range: CampaignOverview["range"] | undefined) => boolean;
  emptyTitle: string;
  label: string;
  formatLeft: (v: number) => string;
  formatRight?: (v: number) => string;
  series: TrendSeries[];
}[] = [
  {
    title: "Messages and delivery rate",
    testId: "chart-messages",
    empty: (r) => !r?.sent,
    emptyTitle: "No messages sent in this range",
    label: "Messages sent and delivered per day, with the delivery rate",
    formatLeft: numberTick,
    formatRight: percentTick,
    series: [
      { key: "sent", name: "Sent", color: "#6366f1", kind: "bar" },
      { key: "delivered", name: "Delivered", color: "#059669", kind: "bar" },
      { key: "deliveryRate", name: "Delivery rate", color: "#b45309", kind: "line", axis: "right" },
    ],
  },
  {
    title: "Revenue",
    testId: "chart-revenue",
    empty: (r) => !r?.orders,
    emptyTitle: "No orders in this range",
    label: "Revenue per day",
    formatLeft: compact,
    series: [{ key: "revenue", name: "Revenue", color: "#0f766e", kind: "area" }],
  },
  {
    title: "Customers",
    testId: "chart-customers",
    empty: (r) => !r?.customers,
    emptyTitle: "No customers with a join date yet",
    label: "New customers per day and customers in total",
    formatLeft: numberTick,
    formatRight: numberTick,
    series: [
      { key: "newCustomers", name: "New customers", color: "#6366f1", kind: "bar" },
      { key: "customers", name: "Customers in total", color: "#0f766e", kind: "line", axis: "right" },
    ],
  },
];

function TrendCards({ overview: o, loading }: { overview?: CampaignOverview; loading: boolean }) {
  const data = (o?.daily ?? []).map((d) => ({ ...d, label: formatIsoDay(d.date) }));
  return (
    <>
      {TRENDS.map((t) => (
        <Card key={t.testId} title={t.title} data-testid={t.testId}>
          {loading ? (
            <Loading />
          ) : t.empty(o?.range) ? (
            <EmptyState title={t.emptyTitle} />
          ) : (
            <TrendChart
              label={t.label}
              data={data}
              formatLeft={t.formatLeft}
              formatRight={t.formatRight}
              series={t.series}
            />
          )}
        </Card>
      ))}
    </>
  );
}

function TopCampaigns({ items }: { items: TopCampaign[] }) {
  if (items.length === 0) return <EmptyState title="No campaigns launched in this range" />;
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Top campaigns of the range, by attributed revenue</caption>
        <thead className="border-b border-slate-200 text-xs uppercase text-slate-500">
          <tr>
            <th scope="col" className="py-2 pr-3">
              Campaign
            </th>
            <th scope="col" className="py-2 pr-3 text-right">
              Delivered
            </th>
            <th scope="col" className="hidden py-2 pr-3 text-right sm:table-cell">
              Rate
            </th>
            <th scope="col" className="py-2 pr-3 text-right">
              Revenue
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {items.map((t) => (
            <tr key={t.id} data-testid="top-campaign-row">
              <td className="py-2 pr-3">
                <Link className="font-medium text-indigo-700 hover:underline" to={`/campaigns/${t.id}`}>
                  {t.name}
                </Link>
                <div className="text-xs text-slate-600">
                  {formatDay(t.launchedAt)}
                  {t.imported ? " · imported" : ""}
                </div>
              </td>
              <td className="py-2 pr-3 text-right tabular-nums">{formatNumber(t.delivered)}</td>
              <td className="hidden py-2 pr-3 text-right tabular-nums sm:table-cell">
                {formatPercent(t.deliveryRate)}
              </td>
              <td className="py-2 pr-3 text-right tabular-nums">{formatCompactMoney(t.attributedRevenue)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RecentCampaigns({ recent }: { recent: AsyncState<Page<Campaign>> }) {
  return (
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
                <Link className="font-medium text-indigo-700 hover:underline" to={`/campaigns/${camp.id}`}>
                  {camp.name}
                </Link>
                <span className="flex items-center gap-3 text-sm text-slate-600">
                  <StatusBadge status={camp.status} />
                  {formatNumber(camp.delivered)}/{formatNumber(camp.audienceSize ?? camp.sent)} delivered ·{" "}
                  {formatPercent(camp.deliveryRate)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </ListState>
    </Card>
  );
}
