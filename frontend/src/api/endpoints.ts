// One function per gateway endpoint (docs/api.md).
import type { RulesJson } from "../rules/model";
import { request } from "./client";
import type {
  ApiKey,
  AuditPage,
  Role,
  RoleGrant,
  UserItem,
  AuthConfig,
  Campaign,
  CampaignOverview,
  CampaignResults,
  Communication,
  Customer,
  CustomerDetail,
  ErasureStatus,
  Suppression,
  CustomerStats,
  ImportStatus,
  Lookalike,
  MessageSuggestion,
  NewApiKey,
  OptimalTiming,
  Page,
  PerformanceSummary,
  Preview,
  Realtime,
  Segment,
  SegmentFromText,
  MessagePreview,
  StreamInfo,
  User,
  Variant,
  WinnerSetup,
} from "./types";

// -- auth --
export const getAuthConfig = () => request<AuthConfig>("GET", "/auth/config");
export const getUser = () => request<User>("GET", "/auth/user");
export const devLogin = (email?: string, name?: string) =>
  request<User | undefined>("POST", "/auth/dev-login", { body: { email, name } });
export const logout = () => request<void>("POST", "/auth/logout");
export const GOOGLE_SIGN_IN_URL = "/auth/google";

// -- API keys --
export const listApiKeys = () => request<{ items: ApiKey[] }>("GET", "/api/keys");
export const createApiKey = (name: string, scopes: string[]) =>
  request<NewApiKey>("POST", "/api/keys", { body: { name, scopes } });
export const revokeApiKey = (id: string) => request<void>("DELETE", `/api/keys/${encodeURIComponent(id)}`);

// -- users and roles, audit log (admins) --
export const listUsers = () => request<{ items: UserItem[]; grants: RoleGrant[] }>("GET", "/api/users");
export const changeRole = (id: string, role: Role) =>
  request<UserItem>("PATCH", `/api/users/${encodeURIComponent(id)}`, { body: { role } });
export const grantRole = (email: string, role: Role) =>
  request<RoleGrant>("POST", "/api/users/grants", { body: { email, role } });
export const listAudit = (query: {
  action?: string;
  actor?: string;
  target?: string;
  outcome?: string;
  before?: number;
  limit?: number;
}) => request<AuditPage>("GET", "/api/audit", { query });

// -- streams --
export const getStreams = (signal?: AbortSignal) =>
  request<{ streams: StreamInfo[] }>("GET", "/api/admin/streams", { signal });
export const replayDlq = (stream: string) =>
  request<{ replayed: number }>("POST", `/api/admin/streams/${encodeURIComponent(stream)}/dlq/replay`);

// -- customers --
export const listCustomers = (params: { page: number; pageSize: number; sort?: string; q?: string }) =>
  request<Page<Customer>>("GET", "/api/customers", { query: params });
export const getCustomer = (id: string) =>
  request<CustomerDetail>("GET", `/api/customers/${encodeURIComponent(id)}`);
export const getCustomerStats = () => request<CustomerStats>("GET", "/api/customers/stats");
// sendAt: when the campaign would leave (none: now), for its deferred and capped counts
export const previewAudience = (rules: RulesJson, sampleSize = 5, signal?: AbortSignal, sendAt?: string) =>
  request<Preview>("POST", "/api/customers/preview", { body: { rules, sampleSize, sendAt }, signal });
export function importCsv(file: File, kind: "customers" | "orders") {
  const form = new FormData();
  form.append("file", file);
  form.append("kind", kind);
  return request<{ importId: string }>("POST", "/api/customers/import", { form });
}
export const getImport = (id: string) =>
  request<ImportStatus>("GET", `/api/imports/${encodeURIComponent(id)}`);

// -- consent (docs/api.md) --
export const listSuppressions = (params: { channel?: string; q?: string; limit?: number; offset?: number }) =>
  request<{ items: Suppression[]; total: number }>("GET", "/api/suppressions", { query: params });
export const addSuppression = (body: { channel: string; address: string; reason?: string }) =>
  request<Suppression>("POST", "/api/suppressions", { body });
export const removeSuppression = (id: string) =>
  request<void>("DELETE", `/api/suppressions/${encodeURIComponent(id)}`);
export function importSuppressions(file: File) {
  const form = new FormData();
  form.append("file", file);
  return request<{ added: number; known: number; errors: { row?: number; message: string }[] }>(
    "POST",
    "/api/suppressions/batch",
    { form },
  );
}
export const eraseCustomer = (id: string) =>
  request<{ status: string }>("POST", `/api/customers/${encodeURIComponent(id)}/erase`);
export const getErasure = (id: string) =>
  request<ErasureStatus>("GET", `/api/customers/${encodeURIComponent(id)}/erasure`);
export const exportCustomerUrl = (id: string) => `/api/customers/${encodeURIComponent(id)}/export`;
export const getUnsubscriptions = (campaignId: string) =>
  request<{ unsubscribed: number }>("GET", "/api/unsubscriptions", { query: { campaignId } });

// -- deliveries --
export const getCustomerMessages = (customerId: string) =>
  request<{ items: Communication[] }>("GET", `/api/deliveries/customers/${encodeURIComponent(customerId)}`);
export const listCommunications = (
  campaignId: string,
  params: { page: number; pageSize: number; status?: string },
) =>
  request<Page<Communication>>("GET", `/api/campaigns/${encodeURIComponent(campaignId)}/communications`, {
    query: params,
  });

// -- campaigns --
export interface NewCampaign {
  name: string;
  segmentRules?: RulesJson;
  segmentId?: string;
  message?: string;
  scheduledAt?: string;
  sendAtLocalTime?: string; // "HH:MM" in each customer's zone
  tags?: string[];
  channel?: string;
  variants?: Variant[];
  holdoutShare?: number;
  winner?: WinnerSetup;
  attributionDays?: number;
}
export const createCampaign = (body: NewCampaign) => request<Campaign>("POST", "/api/campaigns", { body });
export const listCampaigns = (params: { page: number; pageSize: number; status?: string; q?: string }) =>
  request<Page<Campaign>>("GET", "/api/campaigns", { query: params });
export const getCampaign = (id: string) =>
  request<Campaign>("GET", `/api/campaigns/${encodeURIComponent(id)}`);
export const getCampaignResults = (id: string) =>
  request<CampaignResults>("GET", `/api/campaigns/${encodeURIComponent(id)}/results`);
export const getRealtime = (id: string) =>
  request<Realtime>("GET", `/api/campaigns/${encodeURIComponent(id)}/realtime`);
export const campaignEventsUrl = (id: string) => `/api/campaigns/${encodeURIComponent(id)}/events`;
export const campaignAction = (id: string, action: "pause" | "resume" | "cancel") =>
  request<Campaign>("POST", `/api/campaigns/${encodeURIComponent(id)}/${action}`);
export const getInFlight = (id: string, signal?: AbortSignal) =>
  request<{ campaignId: string; inFlight: number }>(
    "GET",
    `/api/deliveries/campaigns/${encodeURIComponent(id)}/in-flight`,
    { signal },
  );
/** The dashboard: all-time totals, then the UTC days ``from``..``to`` (default: the last 14). */
export const getCampaignOverview = (range?: { from: string; to: string }) =>
  request<CampaignOverview>("GET", "/api/campaigns/stats/overview", { query: range });

export const previewMessage = (message: string, customer: object, signal?: AbortSignal) =>
  request<MessagePreview>("POST", "/api/campaigns/message-preview", { body: { message, customer }, signal });

// -- segments --
export const createSegment = (name: string, rules: RulesJson, description?: string) =>
  request<Segment>("POST", "/api/segments", { body: { name, rules, description } });
export const updateSegment = (id: string, name: string, rules: RulesJson, description?: string) =>
  request<Segment>("PUT", `/api/segments/${encodeURIComponent(id)}`, { body: { name, rules, description } });
export const listSegments = () => request<{ items: Segment[] }>("GET", "/api/segments");
export const getSegment = (id: string) => request<Segment>("GET", `/api/segments/${encodeURIComponent(id)}`);
export const deleteSegment = (id: string) =>
  request<void>("DELETE", `/api/segments/${encodeURIComponent(id)}`);

// -- AI --
export const segmentFromText = (description: string) =>
  request<SegmentFromText>("POST", "/api/ai/segment-from-text", { body: { description } });
export const messageSuggestions = (body: {
  objective: string;
  audienceSize?: number;
  tone?: string;
  rules?: RulesJson;
}) =>
  request<{ suggestions: MessageSuggestion[]; source: string }>("POST", "/api/ai/message-suggestions", {
    body,
  });
export const performanceSummary = (campaignId: string) =>
  request<PerformanceSummary>("POST", "/api/ai/campaign-performance-summary", { body: { campaignId } });
export const optimalTiming = (audienceRules?: RulesJson) =>
  request<OptimalTiming>("POST", "/api/ai/optimal-timing", { body: { audienceRules } });
export const lookalikeAudience = (body: { rules?: RulesJson; baseSegmentId?: string; size?: number }) =>
  request<Lookalike>("POST", "/api/ai/lookalike-audience", { body });
export const campaignTags = (body: { name?: string; rules?: RulesJson; message: string }) =>
  request<{ tags: string[]; source: string }>("POST", "/api/ai/campaign-tags", { body });
