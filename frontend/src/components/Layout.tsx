import {
  Activity,
  ScrollText,
  UserCog,
  KeyRound,
  LayoutDashboard,
  LogOut,
  Megaphone,
  Menu,
  Route,
  Send,
  SlidersHorizontal,
  TriangleAlert,
  Users,
  X,
} from "lucide-react";
import { useState, type ReactNode } from "react";
import { NavLink, Outlet } from "react-router-dom";
import { useAuth } from "../auth";

const NAV = [
  { to: "/", label: "Dashboard", icon: LayoutDashboard, end: true },
  { to: "/customers", label: "Customers", icon: Users },
  { to: "/audience", label: "Audience builder", icon: SlidersHorizontal },
  { to: "/campaigns/new", label: "New campaign", icon: Send },
  { to: "/campaigns", label: "Campaigns", icon: Megaphone, end: true },
  { to: "/journeys", label: "Journeys", icon: Route, end: false },
  { to: "/streams", label: "Streams", icon: Activity },
  { to: "/settings", label: "Settings", icon: KeyRound },
];
// Shown to admins only (the gateway refuses these APIs to anyone else anyway).
const ADMIN_NAV = [
  { to: "/users", label: "Users", icon: UserCog, end: false },
  { to: "/audit", label: "Audit log", icon: ScrollText, end: false },
];

export function DevBanner() {
  const { config } = useAuth();
  if (!config?.devLogin) return null;
  return (
    // Not an alert: a live region would be announced again on every page.
    <div
      data-testid="dev-banner"
      className="flex items-center justify-center gap-2 bg-amber-400 px-3 py-1.5 text-sm font-semibold text-amber-950"
    >
      <TriangleAlert className="h-4 w-4" aria-hidden /> Development sign-in is enabled — do not use this
      deployment for real data.
    </div>
  );
}

function NavItems({ onNavigate }: { onNavigate?: () => void }): ReactNode {
  const { user } = useAuth();
  const items = user?.role === "admin" ? [...NAV, ...ADMIN_NAV] : NAV;
  return items.map(({ to, label, icon: Icon, end }) => (
    <NavLink
      key={to}
      to={to}
      end={end}
      onClick={onNavigate}
      className={({ isActive }) =>
        `flex items-center gap-2 rounded-md px-3 py-2 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-400 ${
          isActive ? "bg-indigo-600 text-white" : "text-slate-200 hover:bg-slate-700"
        }`
      }
    >
      <Icon className="h-4 w-4" aria-hidden /> {label}
    </NavLink>
  ));
}

export function Layout() {
  const { user, signOut } = useAuth();
  const [open, setOpen] = useState(false);
  return (
    <div className="flex min-h-screen flex-col">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:p-2"
      >
        Skip to content
      </a>
      <DevBanner />
      <header className="flex items-center justify-between bg-slate-800 px-4 py-2 text-white lg:hidden">
        <span className="font-bold">Mini CRM</span>
        <button
          type="button"
          aria-label={open ? "Close menu" : "Open menu"}
          aria-expanded={open}
          aria-controls="mobile-nav"
          onClick={() => setOpen((o) => !o)}
          className="rounded p-2 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-400"
        >
          {open ? <X className="h-5 w-5" aria-hidden /> : <Menu className="h-5 w-5" aria-hidden />}
        </button>
      </header>
      {open && (
        <nav id="mobile-nav" aria-label="Main" className="space-y-1 bg-slate-800 px-3 pb-3 lg:hidden">
          <NavItems onNavigate={() => setOpen(false)} />
          <button
            type="button"
            onClick={() => void signOut()}
            className="flex w-full items-center gap-2 rounded-md px-3 py-2 text-sm text-slate-200 hover:bg-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-400"
          >
            <LogOut className="h-4 w-4" aria-hidden /> Sign out ({user?.email})
          </button>
        </nav>
      )}
      <div className="flex flex-1">
        <aside className="hidden w-60 shrink-0 flex-col bg-slate-800 p-3 lg:flex">
          <p className="mb-4 px-3 text-lg font-bold text-white">Mini CRM</p>
          <nav aria-label="Main" className="flex-1 space-y-1">
            <NavItems />
          </nav>
          <div className="mt-4 border-t border-slate-700 pt-3 text-xs text-slate-300">
            <p className="truncate px-3" title={user?.email}>
              {user?.name || user?.email}
            </p>
            <button
              type="button"
              onClick={() => void signOut()}
              className="mt-2 flex w-full items-center gap-2 rounded-md px-3 py-2 text-sm text-slate-200 hover:bg-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-400"
            >
              <LogOut className="h-4 w-4" aria-hidden /> Sign out
            </button>
          </div>
        </aside>
        <main id="main" className="min-w-0 flex-1 p-4 lg:p-6">
          <Outlet />
        </main>
      </div>
    </div>
  );
}
