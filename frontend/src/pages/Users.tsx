import { UserPlus } from "lucide-react";
import { useState, type FormEvent } from "react";
import { changeRole, grantRole, listUsers } from "../api/endpoints";
import type { Role } from "../api/types";
import { useAuth } from "../auth";
import {
  Button,
  Card,
  EmptyState,
  ErrorState,
  FieldErrors,
  ListState,
  PageHeader,
  fieldBase,
  fieldErrors,
  inputClass,
} from "../components/ui";
import { formatDate } from "../format";
import { useAsync } from "../hooks/useAsync";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

export const ROLES: { value: Role; label: string }[] = [
  { value: "admin", label: "Admin — users, roles, everyone's keys, dead letters, audit" },
  { value: "marketer", label: "Marketer — audiences, campaigns, own keys" },
  { value: "viewer", label: "Viewer — read only" },
];

export function Users() {
  useDocumentTitle("Users");
  const { user: me } = useAuth();
  const users = useAsync(listUsers, []);
  const [error, setError] = useState<unknown>();
  const [note, setNote] = useState<string>();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("marketer");
  const [busy, setBusy] = useState(false);
  const [grantError, setGrantError] = useState<unknown>();

  async function onRoleChange(id: string, who: string, next: Role) {
    setError(undefined);
    setNote(undefined);
    try {
      await changeRole(id, next);
      setNote(`${who} is now ${next}.`);
      users.reload();
    } catch (err) {
      setError(err);
      users.reload();
    }
  }

  async function onGrant(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setGrantError(undefined);
    try {
      await grantRole(email.trim(), role);
      setNote(`${email.trim()} gets the role ${role} at sign-in.`);
      setEmail("");
      users.reload();
    } catch (err) {
      setGrantError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeader
        title="Users"
        subtitle="Who may do what. People not given a role sign in as viewers; only the sign-in allowlist decides who may sign in at all."
      />
      {note && (
        <p role="status" className="mb-3 rounded-md border border-emerald-200 bg-emerald-50 p-2 text-sm">
          {note}
        </p>
      )}
      {error ? (
        <div className="mb-3">
          <ErrorState error={error} />
        </div>
      ) : null}
      <div className="grid gap-4 xl:grid-cols-3">
        <Card title="People" className="xl:col-span-2">
          <ListState
            loading={users.loading}
            error={users.error}
            items={users.data?.items}
            onRetry={users.reload}
            empty={<EmptyState title="Nobody has signed in yet" />}
          >
            {(items) => (
              <table className="w-full text-left text-sm" data-testid="users-table">
                <thead className="text-xs uppercase text-slate-500">
                  <tr>
                    <th scope="col" className="py-1">
                      Person
                    </th>
                    <th scope="col" className="py-1">
                      Last sign-in
                    </th>
                    <th scope="col" className="py-1">
                      Role
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {items.map((u) => (
                    <tr key={u.id} data-testid="user-row">
                      <td className="py-2">
                        <span className="font-medium">{u.name || u.email}</span>
                        <span className="block text-xs text-slate-500">{u.email}</span>
                      </td>
                      <td className="py-2 text-slate-600">{formatDate(u.lastLoginAt ?? null)}</td>
                      <td className="py-2">
                        <select
                          aria-label={`Role of ${u.email}`}
                          className={fieldBase}
                          value={u.role}
                          disabled={u.id === me?.id && u.role === "admin" && countAdmins(items) <= 1}
                          onChange={(e) => void onRoleChange(u.id, u.email, e.target.value as Role)}
                        >
                          {ROLES.map((r) => (
                            <option key={r.value} value={r.value}>
                              {r.value}
                            </option>
                          ))}
                        </select>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </ListState>
        </Card>
        <Card title="Give a role before first sign-in">
          <form onSubmit={onGrant} className="space-y-3">
            <div>
              <label htmlFor="grant-email" className="text-sm font-medium">
                Email
              </label>
              <input
                id="grant-email"
                type="email"
                className={inputClass}
                value={email}
                placeholder="colleague@example.com"
                onChange={(e) => setEmail(e.target.value)}
              />
              <FieldErrors messages={fieldErrors(grantError, "email")} />
            </div>
            <div>
              <label htmlFor="grant-role" className="text-sm font-medium">
                Role
              </label>
              <select
                id="grant-role"
                className={inputClass}
                value={role}
                onChange={(e) => setRole(e.target.value as Role)}
              >
                {ROLES.map((r) => (
                  <option key={r.value} value={r.value}>
                    {r.label}
                  </option>
                ))}
              </select>
            </div>
            {grantError && fieldErrors(grantError, "email").length === 0 ? (
              <ErrorState error={grantError} />
            ) : null}
            <Button type="submit" busy={busy} disabled={!email.trim()}>
              <UserPlus className="h-4 w-4" aria-hidden /> Give role
            </Button>
          </form>
          {users.data && users.data.grants.length > 0 && (
            <ul className="mt-4 divide-y divide-slate-100 text-sm" aria-label="Roles given by email">
              {users.data.grants.map((g) => (
                <li key={g.email} className="flex justify-between py-1">
                  <span>{g.email}</span> <span className="text-slate-600">{g.role}</span>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </>
  );
}

function countAdmins(items: { role: Role }[]): number {
  return items.filter((u) => u.role === "admin").length;
}
