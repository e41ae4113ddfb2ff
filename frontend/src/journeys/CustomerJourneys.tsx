// A customer's journeys on the customer page: where they are in each, and why.
import { Link } from "react-router-dom";
import { getCustomerJourneys } from "../api/journeys";
import { Card, EmptyState, ListState, StatusBadge } from "../components/ui";
import { formatDate } from "../format";
import { useAsync } from "../hooks/useAsync";

export function CustomerJourneys({ customerId }: { customerId: string }) {
  const journeys = useAsync(() => getCustomerJourneys(customerId), [customerId]);
  return (
    <Card title="Journeys" data-testid="customer-journeys">
      <ListState
        loading={journeys.loading}
        error={journeys.error}
        items={journeys.data?.items}
        onRetry={journeys.reload}
        empty={<EmptyState title="Not in any journey" />}
      >
        {(items) => (
          <ul className="divide-y divide-slate-100 text-sm">
            {items.map((j) => (
              <li key={j.journeyId} className="py-2">
                <div className="flex flex-wrap items-center justify-between gap-2">
                  <Link className="text-indigo-700 hover:underline" to={`/journeys/${j.journeyId}`}>
                    {j.journeyName ?? j.journeyId}
                  </Link>
                  <span className="flex items-center gap-2 text-xs text-slate-600">
                    <StatusBadge status={j.status} />
                    {j.position && `at ${j.position}`}
                    {j.dueAt && ` until ${formatDate(j.dueAt)}`}
                  </span>
                </div>
                <ol className="mt-1 space-y-0.5 text-xs text-slate-600">
                  {j.history.map((h, i) => (
                    <li key={i}>
                      {formatDate(h.at)} · entry {h.entry} · {h.event} {h.detail}
                    </li>
                  ))}
                </ol>
              </li>
            ))}
          </ul>
        )}
      </ListState>
    </Card>
  );
}
