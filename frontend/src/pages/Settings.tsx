import { Copy, KeyRound, Trash2 } from "lucide-react";
import { useState, type FormEvent } from "react";
import { createApiKey, listApiKeys, revokeApiKey } from "../api/endpoints";
import type { NewApiKey } from "../api/types";
import {
  Button,
  Card,
  EmptyState,
  ErrorState,
  FieldErrors,
  ListState,
  PageHeader,
  fieldErrors,
  inputClass,
} from "../components/ui";
import { formatDate } from "../format";
import { useAsync } from "../hooks/useAsync";
import { useAuth } from "../auth";
import { SuppressionsPanel } from "../components/SuppressionsPanel";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

const SCOPES = [
  { value: "ingest", label: "Ingest customers and orders" },
  { value: "read", label: "Read data" },
  { value: "campaigns", label: "Manage campaigns" },
];

// A key carries no scope beyond its owner's role (the gateway refuses wider ones).
const ROLE_SCOPES: Record<string, string[]> = {
  admin: ["ingest", "read", "campaigns"],
  marketer: ["ingest", "read", "campaigns"],
  viewer: ["read"],
};

export function Settings() {
  useDocumentTitle("Settings");
  const { user } = useAuth();
  const allowed = ROLE_SCOPES[user?.role ?? "viewer"];
  const keys = useAsync(listApiKeys, []);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>([allowed[0]]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [created, setCreated] = useState<NewApiKey>();
  const [copied, setCopied] = useState(false);
  const [revokeError, setRevokeError] = useState<unknown>();

  async function onCreate(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setCreated(undefined);
    setCopied(false);
    try {
      setCreated(await createApiKey(name, scopes));
      setName("");
      keys.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function revoke(id: string, keyName: string) {
    if (!window.confirm(`Revoke the key “${keyName}”? Clients using it stop working at once.`)) return;
    setRevokeError(undefined);
    try {
      await revokeApiKey(id);
      // a revoked key must not stay on screen under "Copy this key now"
      setCreated((shown) => (shown?.id === id ? undefined : shown));
      keys.reload();
    } catch (err) {
      setRevokeError(err);
    }
  }

  const toggle = (scope: string) =>
    setScopes((s) => (s.includes(scope) ? s.filter((x) => x !== scope) : [...s, scope]));

  return (
    <>
      <PageHeader title="Settings" subtitle="API keys let other systems send customers and orders." />
      <div className="grid gap-4 xl:grid-cols-2">
        <Card title="Create an API key">
          <form onSubmit={onCreate} className="space-y-3">
            <div>
              <label htmlFor="key-name" className="text-sm font-medium">
                Name
              </label>
              <input
                id="key-name"
                className={inputClass}
                value={name}
                placeholder="Shop sync"
                aria-invalid={fieldErrors(error, "name").length > 0}
                onChange={(e) => setName(e.target.value)}
              />
              <FieldErrors messages={fieldErrors(error, "name")} />
            </div>
            <fieldset>
              <legend className="text-sm font-medium">Scopes</legend>
              {SCOPES.filter((s) => allowed.includes(s.value)).map((s) => (
                <label key={s.value} className="mt-1 flex items-center gap-2 text-sm">
                  <input
                    type="checkbox"
                    checked={scopes.includes(s.value)}
                    onChange={() => toggle(s.value)}
                  />{" "}
                  {s.label} <code className="text-xs text-slate-500">{s.value}</code>
                </label>
              ))}
              <FieldErrors messages={fieldErrors(error, "scopes")} />
            </fieldset>
            {error && fieldErrors(error, "name").length + fieldErrors(error, "scopes").length === 0 ? (
              <ErrorState error={error} />
            ) : null}
            <Button type="submit" busy={busy} disabled={!name.trim() || scopes.length === 0}>
              <KeyRound className="h-4 w-4" aria-hidden /> Create key
            </Button>
          </form>
          {created && (
            <div role="status" className="mt-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm">
              <p className="font-semibold">Copy this key now: it will not be shown again.</p>
              <div className="mt-2 flex items-center gap-2">
                <code className="flex-1 break-all rounded bg-white p-2 text-xs" data-testid="new-api-key">
                  {created.key}
                </code>
                <Button
                  variant="secondary"
                  aria-label="Copy key"
                  onClick={() => void navigator.clipboard?.writeText(created.key).then(() => setCopied(true))}
                >
                  <Copy className="h-4 w-4" aria-hidden /> {copied ? "Copied" : "Copy"}
                </Button>
              </div>
            </div>
          )}
        </Card>
        <Card title="Your API keys">
          {revokeError ? <ErrorState error={revokeError} /> : null}
          <ListState
            loading={keys.loading}
            error={keys.error}
            items={keys.data?.items}
            onRetry={keys.reload}
            empty={<EmptyState title="No API keys yet" />}
          >
            {(items) => (
              <ul className="divide-y divide-slate-100 text-sm">
                {items.map((k) => (
                  <li key={k.id} className="flex items-center justify-between gap-2 py-2">
                    <span className="min-w-0">
                      <span className="font-medium">{k.name}</span>{" "}
                      {k.prefix && <code className="text-xs text-slate-500">{k.prefix}…</code>}
                      <span className="block text-xs text-slate-500">
                        {k.scopes.join(", ")} · created {formatDate(k.createdAt)} · last used{" "}
                        {k.lastUsedAt ? formatDate(k.lastUsedAt) : "never"}
                      </span>
                    </span>
                    <Button
                      variant="ghost"
                      aria-label={`Revoke key ${k.name}`}
                      onClick={() => void revoke(k.id, k.name)}
                    >
                      <Trash2 className="h-4 w-4" aria-hidden /> Revoke
                    </Button>
                  </li>
                ))}
              </ul>
            )}
          </ListState>
        </Card>
        {user?.role === "admin" && <SuppressionsPanel />}
      </div>
    </>
  );
}
