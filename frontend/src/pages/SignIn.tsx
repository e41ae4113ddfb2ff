import { LogIn, Wrench } from "lucide-react";
import { useState, type FormEvent } from "react";
import { GOOGLE_SIGN_IN_URL, devLogin } from "../api/endpoints";
import { useAuth } from "../auth";
import { DevBanner } from "../components/Layout";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { Button, ErrorState, FieldErrors, fieldErrors, inputClass } from "../components/ui";

export function SignIn() {
  useDocumentTitle("Sign in");
  const { config, refresh, error: authError } = useAuth();
  const [email, setEmail] = useState("dev@example.com");
  const [name, setName] = useState("Developer");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  async function onDevLogin(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await devLogin(email || undefined, name || undefined);
      await refresh();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="flex min-h-screen flex-col">
      <DevBanner />
      <main className="flex flex-1 items-center justify-center p-4">
        <div className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow">
          <h1 className="text-2xl font-bold">Mini CRM</h1>
          <p className="mb-6 text-sm text-slate-600">Sign in to manage customers and campaigns.</p>
          {authError ? <ErrorState error={authError} onRetry={() => void refresh()} /> : null}
          {!config || config.providers.includes("google") ? (
            <a
              href={GOOGLE_SIGN_IN_URL}
              className="mt-3 flex w-full items-center justify-center gap-2 rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
            >
              <LogIn className="h-4 w-4" aria-hidden /> Sign in with Google
            </a>
          ) : (
            <p className="mt-3 rounded-md bg-slate-100 p-2 text-sm text-slate-600">
              Google sign-in is not available here yet. Ask your administrator to turn it on.
            </p>
          )}
          {config?.devLogin && (
            <form
              onSubmit={onDevLogin}
              className="mt-6 space-y-3 border-t border-dashed border-amber-400 pt-4"
              aria-label="Development sign-in"
            >
              <p className="text-xs font-semibold uppercase text-amber-700">Development sign-in</p>
              <div>
                <label htmlFor="dev-email" className="text-sm font-medium">
                  Email
                </label>
                <input
                  id="dev-email"
                  type="email"
                  className={inputClass}
                  value={email}
                  onChange={(e) => setEmail(e.target.value)}
                />
                <FieldErrors messages={fieldErrors(error, "email")} />
              </div>
              <div>
                <label htmlFor="dev-name" className="text-sm font-medium">
                  Name
                </label>
                <input
                  id="dev-name"
                  className={inputClass}
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                />
              </div>
              {error && fieldErrors(error, "email").length === 0 ? <ErrorState error={error} /> : null}
              <Button type="submit" variant="secondary" busy={busy} className="w-full">
                <Wrench className="h-4 w-4" aria-hidden /> Development sign-in
              </Button>
            </form>
          )}
        </div>
      </main>
    </div>
  );
}
