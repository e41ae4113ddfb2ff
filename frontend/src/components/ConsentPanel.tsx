import { Download, Trash2 } from "lucide-react";
import { useState } from "react";
import { eraseCustomer, exportCustomerUrl, getErasure } from "../api/endpoints";
import type { CustomerDetail, ErasureStatus } from "../api/types";
import { formatDate } from "../format";
import { Button, Card, ErrorState } from "./ui";

const LABELS: Record<string, string> = { email: "Email", sms: "SMS" };

// Consent per channel, and (admins) the person's export and erasure (GDPR art. 15 and 17).
export function ConsentPanel({ customer, admin }: { customer: CustomerDetail; admin: boolean }) {
  const [erasure, setErasure] = useState<ErasureStatus>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function erase() {
    if (!window.confirm(`Erase ${customer.name || customer.id} from every service? This cannot be undone.`))
      return;
    setBusy(true);
    setError(undefined);
    try {
      await eraseCustomer(customer.id);
      for (let i = 0; i < 30; i++) {
        const status = await getErasure(customer.id);
        setErasure(status);
        if (status.complete) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title="Consent">
      <dl className="grid grid-cols-2 gap-2 text-sm" data-testid="consent">
        {(["email", "sms"] as const).map((channel) => {
          const c = customer.consent?.[channel];
          return (
            <div key={channel}>
              <dt className="text-xs uppercase text-slate-500">{LABELS[channel]}</dt>
              <dd>
                <span className="font-medium">{c?.state ?? "unknown"}</span>
                {c?.source && (
                  <span className="block text-xs text-slate-500">
                    {c.source}
                    {c.updatedAt ? ` · ${formatDate(c.updatedAt)}` : ""}
                  </span>
                )}
              </dd>
            </div>
          );
        })}
      </dl>
      {admin && (
        <div className="mt-3 flex flex-wrap gap-2">
          <a
            className="inline-flex items-center gap-1 rounded border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-50"
            href={exportCustomerUrl(customer.id)}
            download
          >
            <Download className="h-4 w-4" aria-hidden /> Export data
          </a>
          <Button variant="ghost" busy={busy} onClick={() => void erase()}>
            <Trash2 className="h-4 w-4" aria-hidden /> Erase person
          </Button>
        </div>
      )}
      {error ? <ErrorState error={error} /> : null}
      {erasure && (
        <ul className="mt-2 text-sm" aria-live="polite">
          {Object.entries(erasure.services).map(([service, s]) => (
            <li key={service}>
              {service}: {s.confirmed ? `erased ${formatDate(s.at)}` : "waiting…"}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
