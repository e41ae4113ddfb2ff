import { Search } from "lucide-react";
import { useState } from "react";
import { Link } from "react-router-dom";
import { listCustomers } from "../api/endpoints";
import { CsvImport } from "../components/CsvImport";
import { Pager } from "../components/Pager";
import { Card, EmptyState, ListState, PageHeader, inputClass } from "../components/ui";
import { formatDay, formatMoney, formatNumber } from "../format";
import { useAsync, useDebounced } from "../hooks/useAsync";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

const PAGE_SIZE = 25;
const SORTS = [
  { value: "-totalSpends", label: "Top spenders" },
  { value: "-lastVisit", label: "Recently visited" },
  { value: "name", label: "Name A–Z" },
  { value: "-createdAt", label: "Newest" },
];

export function Customers() {
  useDocumentTitle("Customers");
  const [query, setQuery] = useState("");
  const [sort, setSort] = useState(SORTS[0].value);
  const [page, setPage] = useState(1);
  const q = useDebounced(query.trim(), 300);
  const customers = useAsync(() => listCustomers({ page, pageSize: PAGE_SIZE, sort, q }), [page, sort, q]);

  return (
    <>
      <PageHeader title="Customers" subtitle="Search, browse and import your customers." />
      <div className="space-y-4">
        <CsvImport onDone={customers.reload} />
        <Card>
          <div className="mb-3 flex flex-wrap gap-3">
            <div className="relative min-w-[14rem] flex-1">
              <label htmlFor="customer-search" className="sr-only">
                Search customers
              </label>
              <Search
                className="pointer-events-none absolute left-2 top-2 h-4 w-4 text-slate-400"
                aria-hidden
              />
              <input
                id="customer-search"
                type="search"
                placeholder="Search by name, email, city…"
                className={`${inputClass} pl-8`}
                value={query}
                onChange={(e) => {
                  setQuery(e.target.value);
                  setPage(1);
                }}
              />
            </div>
            <div>
              <label htmlFor="customer-sort" className="sr-only">
                Sort
              </label>
              <select
                id="customer-sort"
                className={inputClass}
                value={sort}
                onChange={(e) => {
                  setSort(e.target.value);
                  setPage(1);
                }}
              >
                {SORTS.map((s) => (
                  <option key={s.value} value={s.value}>
                    {s.label}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <ListState
            loading={customers.loading}
            error={customers.error}
            items={customers.data?.items}
            onRetry={customers.reload}
            empty={
              <EmptyState title={q ? "No customers match your search" : "No customers yet"}>
                {!q && "Import a CSV above to get started."}
              </EmptyState>
            }
          >
            {(items) => (
              <div className="overflow-x-auto">
                <table className="w-full text-left text-sm">
                  <caption className="sr-only">Customers</caption>
                  <thead className="border-b border-slate-200 text-xs uppercase text-slate-500">
                    <tr>
                      <th scope="col" className="py-2 pr-3">
                        Name
                      </th>
                      <th scope="col" className="py-2 pr-3">
                        Email
                      </th>
                      <th scope="col" className="hidden py-2 pr-3 md:table-cell">
                        City
                      </th>
                      <th scope="col" className="py-2 pr-3 text-right">
                        Spend
                      </th>
                      <th scope="col" className="hidden py-2 pr-3 text-right sm:table-cell">
                        Visits
                      </th>
                      <th scope="col" className="hidden py-2 pr-3 md:table-cell">
                        Last visit
                      </th>
                    </tr>
                  </thead>
                  <tbody className="divide-y divide-slate-100">
                    {items.map((c) => (
                      <tr key={c.id}>
                        <td className="py-2 pr-3">
                          <Link
                            className="font-medium text-indigo-700 hover:underline"
                            to={`/customers/${encodeURIComponent(c.id)}`}
                          >
                            {c.name || c.id}
                          </Link>
                        </td>
                        <td className="max-w-[12rem] truncate py-2 pr-3">{c.email}</td>
                        <td className="hidden py-2 pr-3 md:table-cell">{c.city ?? "—"}</td>
                        <td className="py-2 pr-3 text-right tabular-nums">{formatMoney(c.totalSpends)}</td>
                        <td className="hidden py-2 pr-3 text-right tabular-nums sm:table-cell">
                          {formatNumber(c.visits)}
                        </td>
                        <td className="hidden py-2 pr-3 md:table-cell">{formatDay(c.lastVisit)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </ListState>
          {customers.data && customers.data.total > 0 && (
            <Pager page={page} pageSize={PAGE_SIZE} total={customers.data.total} onPage={setPage} />
          )}
        </Card>
      </div>
    </>
  );
}
