import { Upload } from "lucide-react";
import { useEffect, useState, type FormEvent } from "react";
import { getImport, importCsv } from "../api/endpoints";
import type { ImportStatus } from "../api/types";
import {
  Button,
  Card,
  ErrorState,
  FieldErrors,
  ProgressBar,
  StatusBadge,
  fieldErrors,
  inputClass,
} from "./ui";

const POLL_MS = 500;

/** Upload a CSV and follow the import until it finishes. */
export function CsvImport({ onDone }: { onDone?: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [kind, setKind] = useState<"customers" | "orders">("customers");
  const [importId, setImportId] = useState<string>();
  const [status, setStatus] = useState<ImportStatus>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!importId) return;
    let live = true;
    let timer = 0;
    const poll = async () => {
      try {
        const next = await getImport(importId);
        if (!live) return;
        setStatus(next);
        if (next.status === "processing") timer = window.setTimeout(poll, POLL_MS);
        else onDone?.();
      } catch (err) {
        if (live) setError(err);
      }
    };
    void poll();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
    // onDone is a callback from the parent; a new identity must not restart polling
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [importId]);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!file) {
      setError(new Error("Choose a CSV file first."));
      return;
    }
    setBusy(true);
    setError(undefined);
    setStatus(undefined);
    try {
      const { importId: id } = await importCsv(file, kind);
      setImportId(id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const processed = status?.processed ?? (status ? (status.accepted ?? 0) + (status.rejected ?? 0) : 0);
  return (
    <Card title="Import CSV">
      <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-3" aria-label="Import CSV">
        <div className="min-w-[14rem] flex-1">
          <label htmlFor="csv-file" className="text-sm font-medium">
            CSV file
          </label>
          <input
            id="csv-file"
            type="file"
            accept=".csv,text/csv"
            className={inputClass}
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            aria-describedby="csv-columns"
          />
          <p id="csv-columns" className="mt-1 text-xs text-slate-500">
            {kind === "customers"
              ? "Columns in any case: Name, Email, Total spend, Visits; optional Customer ID (else the email identifies the customer), Phone, City, Tags, Last visit."
              : "Columns in any case: Order ID, Customer ID, Amount; optional Items, Date."}
          </p>
          <FieldErrors messages={fieldErrors(error, "file")} />
        </div>
        <div>
          <label htmlFor="csv-kind" className="text-sm font-medium">
            Contains
          </label>
          <select
            id="csv-kind"
            className={inputClass}
            value={kind}
            onChange={(e) => setKind(e.target.value as "customers" | "orders")}
          >
            <option value="customers">Customers</option>
            <option value="orders">Orders</option>
          </select>
        </div>
        <Button type="submit" busy={busy}>
          <Upload className="h-4 w-4" aria-hidden /> Import
        </Button>
      </form>
      {error && fieldErrors(error, "file").length === 0 ? (
        <div className="mt-3">
          <ErrorState error={error} />
        </div>
      ) : null}
      {status && (
        <div className="mt-4 space-y-2" data-testid="import-status">
          <div className="flex flex-wrap items-center gap-2 text-sm">
            <StatusBadge status={status.status} />
            <span>
              {processed.toLocaleString("en-US")} of {(status.totalRows ?? 0).toLocaleString("en-US")} rows ·{" "}
              {(status.accepted ?? 0).toLocaleString("en-US")} accepted ·{" "}
              {(status.rejected ?? 0).toLocaleString("en-US")} rejected
            </span>
          </div>
          <ProgressBar
            label="Import progress"
            value={status.status === "completed" ? 1 : processed}
            max={status.status === "completed" ? 1 : (status.totalRows ?? 0)}
          />
          {status.errors && status.errors.length > 0 && (
            <details className="text-sm">
              <summary className="cursor-pointer text-rose-700">{status.errors.length} row problems</summary>
              <ul className="mt-1 max-h-48 overflow-auto text-xs text-slate-700">
                {status.errors.map((e, i) => (
                  <li key={i}>
                    Row {e.row}: {e.message}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </div>
      )}
    </Card>
  );
}
