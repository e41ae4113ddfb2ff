import { Plus } from "lucide-react";
import { Link } from "react-router-dom";
import { listJourneys } from "../api/journeys";
import { Card, EmptyState, ListState, PageHeader, StatusBadge } from "../components/ui";
import { formatDate } from "../format";
import { useAsync } from "../hooks/useAsync";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

export function Journeys() {
  useDocumentTitle("Journeys");
  const journeys = useAsync(() => listJourneys(), []);
  return (
    <>
      <PageHeader
        title="Journeys"
        subtitle="Messages triggered by what customers do."
        actions={
          <Link
            to="/journeys/new"
            className="inline-flex items-center gap-1.5 rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
          >
            <Plus className="h-4 w-4" aria-hidden /> New journey
          </Link>
        }
      />
      <Card>
        <ListState
          loading={journeys.loading}
          error={journeys.error}
          items={journeys.data?.items}
          onRetry={journeys.reload}
          empty={<EmptyState title="No journeys yet" />}
        >
          {(items) => (
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Journeys</caption>
              <thead className="border-b border-slate-200 text-xs uppercase text-slate-500">
                <tr>
                  <th scope="col" className="py-2 pr-3">
                    Journey
                  </th>
                  <th scope="col" className="py-2 pr-3">
                    Status
                  </th>
                  <th scope="col" className="py-2 pr-3">
                    Trigger
                  </th>
                  <th scope="col" className="py-2 pr-3">
                    Created
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {items.map((j) => (
                  <tr key={j.id}>
                    <td className="py-2 pr-3">
                      <Link className="text-indigo-700 hover:underline" to={`/journeys/${j.id}`}>
                        {j.name}
                      </Link>
                    </td>
                    <td className="pr-3">
                      <StatusBadge status={j.status} />
                    </td>
                    <td className="pr-3">{j.trigger.type.replace("_", " ")}</td>
                    <td className="pr-3">{formatDate(j.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </ListState>
      </Card>
    </>
  );
}
