import { ArrowLeft, Ban, Copy, Pause, Play, Radio, Sparkles } from "lucide-react";
import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import {
  campaignAction,
  getCampaign,
  getInFlight,
  getUnsubscriptions,
  listCommunications,
  performanceSummary,
  previewAudience,
} from "../api/endpoints";
import { countdownText, cumulativeTimeline } from "../campaigns/timeline";
import { emptyCommunications } from "../campaigns/communications";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import type { PerformanceSummary } from "../api/types";
import { DeliveryBars } from "../components/Charts";
import { Pager } from "../components/Pager";
import { ResultsPanel } from "../components/ResultsPanel";
import {
  Button,
  Card,
  EmptyState,
  ErrorState,
  ListState,
  Loading,
  PageHeader,
  ProgressBar,
  SourceTag,
  Stat,
  StatusBadge,
} from "../components/ui";
import { formatDate, formatNumber, formatPercent, formatTime } from "../format";
import { useAsync } from "../hooks/useAsync";
import { FINISHED, useCampaignStats } from "../hooks/useCampaignStats";
import { describeRules } from "../rules/describe";
import { StatusFilter } from "../components/StatusFilter";

export function CampaignPage() {
  const { id = "" } = useParams();
  const campaign = useAsync(() => getCampaign(id), [id]);
  const unsubscribed = useAsync(() => getUnsubscriptions(id), [id]);
  const { stats, error: statsError, live } = useCampaignStats(id);
  const [actionError, setActionError] = useState<unknown>();
  const [busy, setBusy] = useState<string>();
  const c = campaign.data;
  const status = stats?.status ?? c?.status ?? "";
  const navigate = useNavigate();
  useDocumentTitle(c ? `${c.name} · Campaign` : "Campaign");

  // Keep the campaign document (status reason, times) in step with live status changes.
  const reloadCampaign = campaign.reload;
  useEffect(() => {
    if (stats?.status) reloadCampaign();
  }, [stats?.status, reloadCampaign]);

  async function act(action: "pause" | "resume" | "cancel") {
    if (
      action === "cancel" &&
      !window.confirm("Cancel this campaign? Messages not yet sent will not be sent.")
    )
      return;
    setBusy(action);
    setActionError(undefined);
    try {
      await campaignAction(id, action);
      campaign.reload();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(undefined);
    }
  }

  // The audience is counted when the campaign starts: until then it is unknown, not 0.
  const audienceSize = stats?.audienceSize ?? c?.audienceSize ?? undefined;
  const audience = audienceSize ?? 0;
  const sending = ["running", "launching"].includes(status);
  const eta = stats?.estimatedCompletion;
  const showEta =
    Boolean(eta) && status === "running" && (stats?.pending ?? 0) > 0 && Date.parse(eta ?? "") > Date.now();
  const cumulative = cumulativeTimeline(stats?.timeline ?? []);
  const latest = cumulative[cumulative.length - 1];
  const sent = stats?.sent ?? c?.sent ?? 0;
  const delivered = stats?.delivered ?? c?.delivered ?? 0;
  const failed = stats?.failed ?? c?.failed ?? 0;
  const done = delivered + failed;
  const reasons = Object.entries(stats?.failureReasons ?? {}).sort((a, b) => b[1] - a[1]);

  return (
    <>
      <Link
        to="/campaigns"
        className="mb-2 inline-flex items-center gap-1 text-sm text-indigo-700 hover:underline"
      >
        <ArrowLeft className="h-4 w-4" aria-hidden /> Campaigns
      </Link>
      {campaign.error && !c ? <ErrorState error={campaign.error} onRetry={campaign.reload} /> : null}
      {!c && campaign.loading && <Loading />}
      {c && (
        <>
          <PageHeader
            title={c.name}
            subtitle={`Created ${formatDate(c.createdAt)}${c.scheduledAt ? ` · scheduled for ${formatDate(c.scheduledAt)}` : ""}${c.sendAtLocalTime ? ` · sent at ${c.sendAtLocalTime} in each customer's time zone` : ""}`}
            actions={
              <>
                {/* the server pauses only a sending campaign; a scheduled one is cancelled */}
                {sending && (
                  <Button variant="secondary" busy={busy === "pause"} onClick={() => void act("pause")}>
                    <Pause className="h-4 w-4" aria-hidden /> Pause
                  </Button>
                )}
                {status === "paused" && (
                  <Button variant="secondary" busy={busy === "resume"} onClick={() => void act("resume")}>
                    <Play className="h-4 w-4" aria-hidden /> Resume
                  </Button>
                )}
                {!FINISHED.includes(status) && (
                  <Button variant="danger" busy={busy === "cancel"} onClick={() => void act("cancel")}>
                    <Ban className="h-4 w-4" aria-hidden /> Cancel
                  </Button>
                )}
                <Button
                  variant="secondary"
                  onClick={() =>
                    navigate("/campaigns/new", {
                      state: {
                        rules: c.segmentRules,
                        name: `Copy of ${c.name}`,
                        message: c.message,
                        tags: c.tags ?? [],
                      },
                    })
                  }
                >
                  <Copy className="h-4 w-4" aria-hidden /> Clone
                </Button>
              </>
            }
          />
          <div className="mb-3 flex flex-wrap items-center gap-3 text-sm">
            <span data-testid="campaign-status">
              <StatusBadge status={status} />
            </span>
            {status === "paused" && <PausingNotice campaignId={id} />}
            {c.statusReason && <span className="text-slate-600">{c.statusReason}</span>}
            {status === "scheduled" && c.scheduledAt && <Countdown to={c.scheduledAt} />}
            {live && sending && (
              <span className="inline-flex items-center gap-1 text-emerald-700">
                <Radio className="h-4 w-4" aria-hidden /> live
              </span>
            )}
            {showEta && (
              <span className="text-slate-600" data-testid="campaign-eta">
                ETA {formatDate(eta)}
              </span>
            )}
            {(c.tags ?? []).map((t) => (
              <span key={t} className="rounded-full bg-slate-200 px-2 py-0.5 text-xs">
                {t}
              </span>
            ))}
          </div>
          {actionError ? (
            <div className="mb-3">
              <ErrorState error={actionError} />
            </div>
          ) : null}
          {statsError && !stats ? (
            <div className="mb-3">
              <ErrorState error={statsError} />
            </div>
          ) : null}
          <Card className="mb-4">
            <ProgressBar
              label="Messages with a final status"
              value={done}
              max={audience || Math.max(done, 1)}
            />
            <div className="mt-3 grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-6">
              {audienceSize === undefined || audienceSize === null ? (
                <AudienceEstimate rules={c.segmentRules} />
              ) : (
                <Stat label="Audience" value={formatNumber(audienceSize)} />
              )}
              <Stat label="Sent" value={formatNumber(sent)} />
              <Stat label="Delivered" value={formatNumber(delivered)} />
              <Stat label="Failed" value={formatNumber(failed)} />
              <Stat
                label="Pending"
                value={
                  audienceSize === undefined || audienceSize === null
                    ? "—"
                    : formatNumber(stats?.pending ?? c.pending)
                }
              />
              <Stat label="Delivery rate" value={formatPercent(stats?.deliveryRate ?? c.deliveryRate)} />
              <Stat label="Unsubscribed" value={formatNumber(unsubscribed.data?.unsubscribed ?? 0)} />
            </div>
          </Card>
          <div className="grid gap-4 xl:grid-cols-2">
            <Card title="Delivery over time">
              {latest ? (
                <>
                  <DeliveryBars
                    label="Delivered and failed messages so far, over time"
                    data={cumulative.map((p) => ({ ...p, label: formatTime(p.t) }))}
                    max={Math.max(audience, latest.delivered + latest.failed)}
                  />
                  <p className="sr-only" data-testid="timeline-latest">
                    By {formatTime(latest.t)}: {latest.delivered} delivered, {latest.failed} failed
                  </p>
                </>
              ) : (
                <EmptyState title="No receipts yet" />
              )}
            </Card>
            <div className="space-y-4">
              <Card title="Failure reasons">
                {reasons.length === 0 ? (
                  <EmptyState title="No failures" />
                ) : (
                  <ul className="space-y-1 text-sm">
                    {reasons.map(([reason, n]) => (
                      <li key={reason} className="flex justify-between gap-2">
                        <span>{reason}</span>
                        <span className="tabular-nums">{formatNumber(n)}</span>
                      </li>
                    ))}
                  </ul>
                )}
              </Card>
              <AiSummary id={id} />
              <Card title="Details">
                <p className="text-xs text-slate-500">
                  Audience: {c.segmentRules ? describeRules(c.segmentRules) : `segment ${c.segmentId}`}
                </p>
                {c.experiment ? (
                  <ul className="mt-2 space-y-1 text-sm" data-testid="campaign-variants">
                    {c.experiment.variants.map((v) => (
                      <li key={v.id} className="whitespace-pre-wrap rounded bg-slate-50 p-2">
                        <strong>
                          {v.id} ({v.share}%)
                        </strong>{" "}
                        {v.message}
                      </li>
                    ))}
                    <li className="text-xs text-slate-500">
                      Holdout {c.experiment.holdoutShare}%
                      {c.experiment.winner
                        ? ` · test ${c.experiment.winner.testShare}%, winner by ${c.experiment.winner.metric} after ${Math.round(c.experiment.winner.afterSeconds / 60)} min`
                        : ""}
                    </li>
                  </ul>
                ) : (
                  <p className="mt-2 whitespace-pre-wrap rounded bg-slate-50 p-2 text-sm">{c.message}</p>
                )}
              </Card>
            </div>
          </div>
          <ResultsPanel campaignId={id} />
          <Communications id={id} refreshKey={done} campaignStatus={status} scheduledAt={c.scheduledAt} />
        </>
      )}
    </>
  );
}

function AiSummary({ id }: { id: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [result, setResult] = useState<PerformanceSummary>();
  async function run() {
    setBusy(true);
    setError(undefined);
    try {
      setResult(await performanceSummary(id));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Card
      title="AI performance summary"
      actions={
        <Button variant="secondary" busy={busy} onClick={() => void run()}>
          <Sparkles className="h-4 w-4" aria-hidden /> Summarise
        </Button>
      }
    >
      {error ? <ErrorState error={error} /> : null}
      {result ? (
        <div className="space-y-2 text-sm" data-testid="ai-summary">
          <p>
            <SourceTag source={result.source} /> {result.summary}
          </p>
          {result.highlights && result.highlights.length > 0 && (
            <ul className="list-inside list-disc text-slate-700">
              {result.highlights.map((h, i) => (
                <li key={i}>{h}</li>
              ))}
            </ul>
          )}
        </div>
      ) : (
        !error && (
          <p className="text-sm text-slate-500">Ask for a plain-English summary of how this campaign did.</p>
        )
      )}
    </Card>
  );
}

// "pending" = not final yet (held, sent or waiting); "held" = waiting while the campaign is paused.
const COMM_STATUSES = [
  "",
  "pending",
  "held",
  "sent",
  "delivered",
  "failed",
  "cancelled",
  "suppressed",
  "capped",
  "holdout",
  "waiting",
];
const COMM_PAGE = 20;

function Communications({
  id,
  refreshKey,
  campaignStatus,
  scheduledAt,
}: {
  id: string;
  refreshKey: number;
  campaignStatus: string;
  scheduledAt?: string;
}) {
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState("");
  // refresh as receipts arrive, at most once per 10 messages
  const bucket = Math.floor(refreshKey / 10);
  const comms = useAsync(
    () => listCommunications(id, { page, pageSize: COMM_PAGE, status: status || undefined }),
    [id, page, status, bucket],
  );
  return (
    <Card title="Communications" className="mt-4">
      <StatusFilter
        id="comm-status"
        value={status}
        options={COMM_STATUSES}
        onChange={(next) => {
          setStatus(next);
          setPage(1);
        }}
      />
      <ListState
        loading={comms.loading}
        error={comms.error}
        items={comms.data?.items}
        onRetry={comms.reload}
        empty={<EmptyState title={emptyCommunications(status, campaignStatus, scheduledAt)} />}
      >
        {(items) => (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Messages of this campaign</caption>
              <thead className="border-b border-slate-200 text-xs uppercase text-slate-500">
                <tr>
                  <th scope="col" className="py-2 pr-3">
                    Customer
                  </th>
                  <th scope="col" className="py-2 pr-3">
                    Status
                  </th>
                  <th scope="col" className="hidden py-2 pr-3 md:table-cell">
                    Message
                  </th>
                  <th scope="col" className="hidden py-2 pr-3 sm:table-cell">
                    Reason
                  </th>
                  <th scope="col" className="hidden whitespace-nowrap py-2 md:table-cell">
                    Updated
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {items.map((m) => (
                  <tr key={m.id}>
                    <td className="py-2 pr-3">
                      <Link
                        className="text-indigo-700 hover:underline"
                        to={`/customers/${encodeURIComponent(m.customerId)}`}
                      >
                        {m.to || m.customerId}
                      </Link>
                    </td>
                    <td className="py-2 pr-3">
                      <StatusBadge status={m.status} />
                    </td>
                    <td
                      className="hidden max-w-[16rem] truncate py-2 pr-3 md:table-cell xl:max-w-md"
                      title={m.body}
                    >
                      {m.body}
                    </td>
                    <td className="hidden py-2 pr-3 text-rose-700 sm:table-cell">{m.reason ?? ""}</td>
                    <td className="hidden whitespace-nowrap py-2 md:table-cell">{formatDate(m.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListState>
      {comms.data && comms.data.total > 0 && (
        <Pager page={page} pageSize={COMM_PAGE} total={comms.data.total} onPage={setPage} />
      )}
    </Card>
  );
}

/** After a pause, the messages already inside a vendor call may still be counted as sent:
 * "pausing… N in flight" until none is left, then nothing (the badge says paused). */
function PausingNotice({ campaignId }: { campaignId: string }) {
  const [inFlight, setInFlight] = useState<number>();
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    async function poll() {
      try {
        const { inFlight: count } = await getInFlight(campaignId, controller.signal);
        setInFlight(count);
        if (count === 0) return;
      } catch {
        if (controller.signal.aborted) return;
      }
      timer = setTimeout(() => void poll(), 300);
    }
    void poll();
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [campaignId]);
  if (!inFlight) return null;
  return (
    <span className="text-amber-700" role="status" data-testid="pausing-in-flight">
      pausing… {formatNumber(inFlight)} in flight
    </span>
  );
}

/** Time left before a scheduled campaign starts, ticking every second. */
function Countdown({ to }: { to: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  return (
    <span className="text-slate-700" data-testid="campaign-countdown">
      Starts {countdownText(Date.parse(to) - now)}
    </span>
  );
}

/** Before launch: how many customers the rules match now (the real count is taken at launch). */
function AudienceEstimate({ rules }: { rules?: unknown }) {
  const estimate = useAsync(
    () =>
      rules ? previewAudience(rules as Parameters<typeof previewAudience>[0], 1) : Promise.resolve(undefined),
    [JSON.stringify(rules ?? null)],
  );
  return (
    <div data-testid="audience-estimate">
      <Stat
        label="Audience (now)"
        value={estimate.data ? `≈ ${formatNumber(estimate.data.count)}` : "—"}
        hint="Counted again when it starts"
      />
    </div>
  );
}
