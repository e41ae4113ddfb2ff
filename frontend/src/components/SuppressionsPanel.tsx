import { Trash2, Upload } from "lucide-react";
import { useState, type FormEvent } from "react";
import { addSuppression, importSuppressions, listSuppressions, removeSuppression } from "../api/endpoints";
import { formatDate, formatNumber } from "../format";
import { useAsync } from "../hooks/useAsync";
import { Button, Card, EmptyState, ErrorState, ListState, inputClass } from "./ui";

// Settings → Suppressions (admins): addresses no campaign may message, per channel.
export function SuppressionsPanel() {
  const [q, setQ] = useState("");
  const [search, setSearch] = useState("");
  const list = useAsync(() => listSuppressions({ q: search || undefined, limit: 100 }), [search]);
  const [channel, setChannel] = useState<"email" | "sms">("email");
  const [address, setAddress] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>();
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);

  async function run(action: () => Promise<string>) {
    setBusy(true);
    setError(undefined);
    setNote("");
    try {
      setNote(await action());
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  function onAdd(event: FormEvent) {
    event.preventDefault();
    void run(async () => {
      await addSuppression({ channel, address, reason: reason || undefined });
      setAddress("");
      setReason("");
      return `${address} suppressed`;
    });
  }

  function onImport(file: File | undefined) {
    if (!file) return;
    void run(async () => {
      const answer = await importSuppressions(file);
      return `${formatNumber(answer.added)} added, ${formatNumber(answer.known)} already listed, ${formatNumber(answer.errors.length)} rows refused`;
    });
  }

  return (
    <Card title="Suppressions" data-testid="suppressions">
      <form className="flex flex-wrap items-end gap-2" onSubmit={onAdd} aria-label="Add a suppression">
        <label className="text-sm">
          Channel
          <select
            className={inputClass}
            value={channel}
            onChange={(e) => setChannel(e.target.value as "email" | "sms")}
          >
            <option value="email">Email</option>
            <option value="sms">SMS</option>
          </select>
        </label>
        <label className="text-sm">
          Address
          <input
            className={inputClass}
            value={address}
            required
            onChange={(e) => setAddress(e.target.value)}
          />
        </label>
        <label className="text-sm">
          Reason
          <input className={inputClass} value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
        <Button type="submit" busy={busy}>
          Add
        </Button>
        <label className="inline-flex cursor-pointer items-center gap-1 text-sm text-indigo-700">
          <Upload className="h-4 w-4" aria-hidden /> Import CSV
          <input
            type="file"
            accept=".csv,text/csv"
            className="sr-only"
            onChange={(e) => onImport(e.target.files?.[0])}
          />
        </label>
      </form>
      {note && (
        <p className="mt-2 text-sm text-emerald-700" aria-live="polite">
          {note}
        </p>
      )}
      {error ? <ErrorState error={error} /> : null}
      <form
        className="mt-3"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(q);
        }}
      >
        <label className="text-sm">
          Search addresses
          <input className={inputClass} value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
      </form>
      <ListState
        loading={list.loading}
        error={list.error}
        items={list.data?.items}
        onRetry={list.reload}
        empty={<EmptyState title="No suppressed addresses" />}
      >
        {(items) => (
          <ul className="mt-2 divide-y divide-slate-100 text-sm">
            {items.map((s) => (
              <li key={s.id} className="flex items-center justify-between gap-2 py-1.5">
                <span>
                  <span className="font-medium">{s.address ?? "(erased person, kept as a hash)"}</span>{" "}
                  <span className="text-xs text-slate-500">
                    {s.channel} · {s.reason} · {s.source} · {formatDate(s.createdAt)}
                  </span>
                </span>
                <Button
                  variant="ghost"
                  aria-label={`Remove ${s.address ?? s.id}`}
                  onClick={() =>
                    void run(async () => {
                      await removeSuppression(s.id);
                      return "removed";
                    })
                  }
                >
                  <Trash2 className="h-4 w-4" aria-hidden /> Remove
                </Button>
              </li>
            ))}
          </ul>
        )}
      </ListState>
    </Card>
  );
}
