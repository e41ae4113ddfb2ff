import { ArrowLeft } from "lucide-react";
import { Link, useParams } from "react-router-dom";
import { getCustomer, getCustomerMessages } from "../api/endpoints";
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
import { formatDate, formatDay, formatMoney, formatNumber } from "../format";
import { useAsync } from "../hooks/useAsync";
import { useAuth } from "../auth";
import { ConsentPanel } from "../components/ConsentPanel";
import { CustomerJourneys } from "../journeys/CustomerJourneys";
import { CampaignName } from "../components/CampaignName";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

export function CustomerDetailPage() {
  const { id = "" } = useParams();
  const customer = useAsync(() => getCustomer(id), [id]);
  const messages = useAsync(() => getCustomerMessages(id), [id]);
  const c = customer.data;
  const { user } = useAuth();
  useDocumentTitle(c ? `${c.name || c.id} · Customer` : "Customer");

  return (
    <>
      <Link
        to="/customers"
        className="mb-2 inline-flex items-center gap-1 text-sm text-indigo-700 hover:underline"
      >
        <ArrowLeft className="h-4 w-4" aria-hidden /> Customers
      </Link>
      {customer.error ? <ErrorState error={customer.error} onRetry={customer.reload} /> : null}
      {!c && customer.loading && <Loading />}
      {c && (
        <>
          <PageHeader
            title={c.name || c.id}
            subtitle={[c.email, c.phone, c.city].filter(Boolean).join(" · ")}
          />
          <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
            <Stat label="Total spend" value={formatMoney(c.totalSpends)} />
            <Stat label="Visits" value={formatNumber(c.visits)} />
            <Stat label="Orders" value={formatNumber(c.orderCount ?? c.orders?.length)} />
            <Stat label="Last visit" value={<span className="text-base">{formatDay(c.lastVisit)}</span>} />
          </div>
          {c.tags && c.tags.length > 0 && (
            <p className="mt-3 flex flex-wrap gap-1">
              {c.tags.map((t) => (
                <span key={t} className="rounded-full bg-slate-200 px-2 py-0.5 text-xs">
                  {t}
                </span>
              ))}
            </p>
          )}
        </>
      )}
      <div className="mt-4 grid gap-4 xl:grid-cols-2">
        {c && <ConsentPanel customer={c} admin={user?.role === "admin"} />}
        <Card title="Orders">
          <ListState
            loading={customer.loading}
            error={undefined}
            items={c ? (c.orders ?? []) : undefined}
            empty={<EmptyState title="No orders yet" />}
          >
            {(orders) => (
              <table className="w-full text-left text-sm">
                <thead className="text-xs uppercase text-slate-500">
                  <tr>
                    <th scope="col" className="py-1">
                      Order
                    </th>
                    <th scope="col">Date</th>
                    <th scope="col" className="text-right">
                      Amount
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {orders.map((o) => (
                    <tr key={o.id}>
                      <td className="py-1.5">{o.id}</td>
                      <td>{formatDay(o.date)}</td>
                      <td className="text-right tabular-nums">{formatMoney(o.amount)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </ListState>
        </Card>
        <Card title="Messages received">
          <ListState
            loading={messages.loading}
            error={messages.error}
            items={messages.data?.items}
            onRetry={messages.reload}
            empty={<EmptyState title="No messages sent to this customer" />}
          >
            {(items) => (
              <ul className="divide-y divide-slate-100 text-sm">
                {items.map((m) => (
                  <li key={m.id} className="py-2">
                    <div className="flex flex-wrap items-center justify-between gap-2">
                      <Link className="text-indigo-700 hover:underline" to={`/campaigns/${m.campaignId}`}>
                        <CampaignName id={m.campaignId} />
                      </Link>
                      <span className="flex items-center gap-2 text-xs text-slate-500">
                        <StatusBadge status={m.status} /> {formatDate(m.updatedAt)}
                      </span>
                    </div>
                    <p className="mt-1 text-slate-700">{m.body}</p>
                    {m.reason && <p className="text-xs text-rose-700">{m.reason}</p>}
                  </li>
                ))}
              </ul>
            )}
          </ListState>
        </Card>
        <CustomerJourneys customerId={id} />
      </div>
    </>
  );
}
