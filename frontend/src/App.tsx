import { BrowserRouter, Route, Routes } from "react-router-dom";
import { AuthProvider, useAuth } from "./auth";
import { Layout } from "./components/Layout";
import { Loading } from "./components/ui";
import { AudiencePage } from "./pages/Audience";
import { CampaignComposer } from "./pages/CampaignComposer";
import { CampaignPage } from "./pages/CampaignPage";
import { Campaigns } from "./pages/Campaigns";
import { CustomerDetailPage } from "./pages/CustomerDetail";
import { Customers } from "./pages/Customers";
import { Dashboard } from "./pages/Dashboard";
import { NotFound } from "./pages/NotFound";
import { Settings } from "./pages/Settings";
import { SignIn } from "./pages/SignIn";
import { Streams } from "./pages/Streams";

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
        <Route path="streams" element={<Streams />} />
        <Route path="settings" element={<Settings />} />
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
