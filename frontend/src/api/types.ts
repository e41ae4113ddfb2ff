import type { RulesJson } from "../rules/model";

export interface Page<T> {
  items: T[];
  total: number;
  page?: number;
  pageSize?: number;
}

export type Role = "admin" | "marketer" | "viewer";

export interface User {
  id: string;
  email: string;
  name?: string;
  picture?: string;
  role?: Role;
}

export interface UserItem {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt?: string | null;
  lastLoginAt?: string | null;
}

export interface RoleGrant {
  email: string;
  role: Role;
}

export interface AuditEntry {
  id: string;
  at: string;
  action: string;
  actor: {
    userId?: string | null;
    email?: string | null;
    role?: string | null;
    via: string;
    keyId?: string | null;
  };
  method: string;
  path: string;
  target?: string | null;
  status: number;
  outcome: "ok" | "refused" | "rejected" | "failed";
  ip?: string | null;
  traceId?: string | null;
  details?: Record<string, unknown> | null;
}

export interface AuditPage {
  items: AuditEntry[];
  nextBefore: number | null;
}

export interface AuthConfig {
  devLogin: boolean;
  providers: string[];
}

export interface Customer {
  id: string;
  name: string;
  email: string;
  phone?: string;
  totalSpends?: number;
  visits?: number;
  lastVisit?: string;
  createdAt?: string;
  tags?: string[];
  city?: string;
  timezone?: string;
  orderCount?: number;
  lastOrderAt?: string;
  attributes?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Order {
  id: string;
  customerId: string;
  amount: number;
  items?: unknown[];
  date: string;
}

export interface CustomerDetail extends Customer {
  orders?: Order[];
  consent?: { email: ChannelConsent; sms: ChannelConsent };
}

export interface Preview {
  count: number;
  sample: Customer[];
  fields?: string[];
  channel?: string;
  // left out of the count for the channel: unsubscribed people, suppressed addresses
  excluded?: { unsubscribed: number; suppressed: number };
  // delivery's pacing at the send time: members waiting for quiet hours to end, and
  // members over the frequency cap (skipped, final status "capped")
  deferred?: number;
  capped?: number;
}

export interface ChannelConsent {
  state: "subscribed" | "unsubscribed" | "unknown";
  source?: string | null;
  updatedAt?: string | null;
}

export interface Suppression {
  id: string;
  channel: "email" | "sms";
  address: string | null;
  reason?: string;
  source?: string;
  createdAt?: string;
}

export interface ErasureStatus {
  requestedAt?: string;
  services: Record<string, { confirmed: boolean; at?: string; removed?: Record<string, number> }>;
  complete: boolean;
}

export interface ImportStatus {
  id: string;
  kind: "customers" | "orders";
  status: "processing" | "completed" | "failed";
  totalRows?: number;
  accepted?: number;
  rejected?: number;
  processed?: number;
  errors?: { row: number; message: string }[];
}

export interface CustomerStats {
  customers: number;
  orders: number;
  revenue: number;
}

export type CampaignStatus = "scheduled" | "launching" | "running" | "paused" | "cancelled" | "completed";

export interface Campaign {
  id: string;
  name: string;
  segmentRules?: RulesJson;
  segmentId?: string;
  message: string;
  channel?: string;
  tags?: string[];
  status: CampaignStatus;
  statusReason?: string;
  scheduledAt?: string;
  sendAtLocalTime?: string;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
  audienceSize?: number;
  sent: number;
  delivered: number;
  failed: number;
  cancelled?: number;
  pending?: number;
  deliveryRate?: number;
  attributionDays?: number;
  experiment?: Experiment;
}

export interface Variant {
  id: string;
  message: string;
  /** Percent of the messaged customers. */
  share: number;
}

export interface WinnerSetup {
  metric: "deliveryRate" | "conversionRate";
  testShare: number;
  afterSeconds: number;
  confidence?: number;
}

export interface Experiment {
  variants: Variant[];
  holdoutShare: number;
  winner?: WinnerSetup;
}

export interface ResultGroup {
  id: string;
  recipients: number;
  delivered: number;
  conversions: number;
  revenue: number;
  conversionRate: number;
  /** The rate's 95% interval. */
  low: number;
  high: number;
  revenuePerRecipient: number;
}

export interface LiftResult {
  absolute: number;
  relative: number | null;
  low: number;
  high: number;
  significant: boolean;
  confidence: number;
  pValue?: number | null;
}

export interface WinnerDecision {
  metric: string;
  send: string;
  winner: string | null;
  confidence: number;
  reason: string;
  decidedAt?: string;
  figures: Record<string, { recipients: number; successes: number; rate: number }>;
}

export interface CampaignResults {
  campaignId: string;
  attributionDays: number;
  variants: ResultGroup[];
  holdout: ResultGroup | null;
  lift: LiftResult | null;
  revenueLift: LiftResult | null;
  winner?: WinnerDecision;
}

export interface Realtime {
  audienceSize?: number | null;
  sent: number;
  delivered: number;
  failed: number;
  pending?: number;
  deliveryRate?: number;
  startedAt?: string | null;
  completedAt?: string | null;
  estimatedCompletion?: string | null;
  status: CampaignStatus;
  failureReasons?: Record<string, number>;
  timeline?: { t: string | number; delivered: number; failed: number }[];
}

export interface CampaignOverview {
  campaigns: number;
  sent: number;
  delivered: number;
  failed: number;
  /** Orders attributed to messaged customers (holdouts excluded). */
  attributedRevenue?: number;
  /** Every UTC day of the range, oldest first. */
  daily: OverviewDay[];
  from?: string;
  to?: string;
  range?: OverviewRange;
  topCampaigns?: TopCampaign[];
}

export interface OverviewDay {
  date: string;
  sent: number;
  delivered: number;
  failed: number;
  /** null on a day nothing was sent. */
  deliveryRate?: number | null;
  revenue?: number;
  orders?: number;
  newCustomers?: number;
  /** Customers who had joined by the end of the day (those with a join date). */
  customers?: number;
}

export interface OverviewRange {
  campaigns: number;
  sent: number;
  delivered: number;
  failed: number;
  deliveryRate: number;
  revenue: number;
  orders: number;
  newCustomers: number;
  customers: number;
}

export interface TopCampaign {
  id: string;
  name: string;
  status?: string;
  channel?: string;
  launchedAt?: string;
  /** Imported history (a record of a campaign sent elsewhere). */
  imported: boolean;
  sent: number;
  delivered: number;
  deliveryRate: number;
  attributedRevenue: number;
}

export interface Segment {
  id: string;
  name: string;
  rules: RulesJson;
  description?: string;
  createdAt: string;
}

export interface Communication {
  id: string;
  campaignId: string;
  customerId: string;
  to?: string;
  channel?: string;
  body?: string;
  headers?: Record<string, string> | null;
  status: string;
  vendorMessageId?: string;
  reason?: string;
  updatedAt?: string;
}

export interface ApiKey {
  id: string;
  owner?: string | null;
  name: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt?: string | null;
  prefix?: string;
}

export interface NewApiKey extends ApiKey {
  key: string;
}

export interface StreamGroup {
  name: string;
  pending: number;
  lag: number | null;
  lastDeliveredId?: string;
  oldestPendingAgeMs?: number | null;
  consumers: { name: string; pending: number; idleMs: number }[];
}

export interface StreamPartition {
  stream: string;
  node: string;
  length: number;
  groups: StreamGroup[];
  dlq: { stream: string; length: number };
}

export interface StreamInfo {
  stream: string;
  length: number;
  groups: StreamGroup[];
  dlq: { stream: string; length: number };
  partitions?: StreamPartition[];
}

export type AiSource = "llm" | "fallback";

/** A message rendered for one sample customer by the server's (and delivery's) renderer. */
export interface MessagePreview {
  text: string;
  segments: { kind: "text" | "value" | "missing"; text: string }[];
  fields: string[];
  currency: string;
  locale: string;
}

export interface SegmentFromText {
  rules: RulesJson;
  explanation: string;
  source: AiSource;
  /** how vague words were read, thresholds included */
  notes?: string[];
  /** words not understood and left out of the rules */
  skipped?: string[];
}

export interface MessageSuggestion {
  message: string;
  tone?: string;
  rationale?: string;
}

export interface TimingRecommendation {
  dayOfWeek: string | number;
  hour: number;
  timezone?: string;
  score?: number;
  evidence?: string;
  label?: string;
  evidenceLabel?: string;
  zones?: { timezone: string; share: number }[];
  /** One send leaves at one moment: the zone to schedule it in, and the share it covers. */
  scheduleZone?: string | null;
  scheduleShare?: number | null;
}

export interface OptimalTiming {
  recommendations: TimingRecommendation[];
  isDefault?: boolean;
  explanation?: string;
  source: AiSource;
}

export interface Lookalike {
  rules: RulesJson;
  size: number;
  sample: Customer[];
  explanation: string;
  source: AiSource;
}

export interface PerformanceSummary {
  summary: string;
  highlights?: string[];
  metrics?: Record<string, unknown>;
  source: AiSource;
}
