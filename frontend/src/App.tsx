import { lazy, Suspense, type ComponentType } from "react";
import { BrowserRouter, Route, Routes } from "react-router-dom";
import { AuthProvider, useAuth } from "./auth";
import { Layout } from "./components/Layout";
import { Loading } from "./components/ui";
import { NotFound } from "./pages/NotFound";
import { SignIn } from "./pages/SignIn";

// Pages load on first visit, so the sign-in page does not wait for the chart library.
function lazyPage<K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K): ComponentType {
  const Component = lazy(async () => ({ default: (await load())[name] as ComponentType }));
  return function Page() {
    return (
      <Suspense fallback={<Loading />}>
        <Component />
      </Suspense>
    );
  };
}

const Dashboard = lazyPage(() => import("./pages/Dashboard"), "Dashboard");
const Customers = lazyPage(() => import("./pages/Customers"), "Customers");
const CustomerDetailPage = lazyPage(() => import("./pages/CustomerDetail"), "CustomerDetailPage");
const AudiencePage = lazyPage(() => import("./pages/Audience"), "AudiencePage");
const Campaigns = lazyPage(() => import("./pages/Campaigns"), "Campaigns");
const CampaignComposer = lazyPage(() => import("./pages/CampaignComposer"), "CampaignComposer");
const CampaignPage = lazyPage(() => import("./pages/CampaignPage"), "CampaignPage");
const Journeys = lazyPage(() => import("./pages/Journeys"), "Journeys");
const JourneyEditor = lazyPage(() => import("./pages/JourneyEditor"), "JourneyEditor");
const JourneyPage = lazyPage(() => import("./pages/JourneyPage"), "JourneyPage");
const Streams = lazyPage(() => import("./pages/Streams"), "Streams");
const Settings = lazyPage(() => import("./pages/Settings"), "Settings");
const Users = lazyPage(() => import("./pages/Users"), "Users");
const Audit = lazyPage(() => import("./pages/Audit"), "Audit");

function Gate() {
  const { user, checking } = useAuth();
  if (checking && !user) return <Loading label="Checking your session…" />;
  if (!user) return <SignIn />;
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Dashboard />} />
        <Route path="customers" element={<Customers />} />
        <Route path="customers/:id" element={<CustomerDetailPage />} />
        <Route path="audience" element={<AudiencePage />} />
        <Route path="campaigns" element={<Campaigns />} />
        <Route path="campaigns/new" element={<CampaignComposer />} />
        <Route path="campaigns/:id" element={<CampaignPage />} />
        <Route path="journeys" element={<Journeys />} />
        <Route path="journeys/new" element={<JourneyEditor />} />
        <Route path="journeys/:id" element={<JourneyPage />} />
        <Route path="streams" element={<Streams />} />
        <Route path="settings" element={<Settings />} />
        <Route path="users" element={<Users />} />
        <Route path="audit" element={<Audit />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

export function App() {
  return (
    <BrowserRouter>
      <AuthProvider>
        <Gate />
      </AuthProvider>
    </BrowserRouter>
  );
}
