import { Rocket, Tags } from "lucide-react";
import { useMemo, useState } from "react";
import { useLocation, useNavigate } from "react-router-dom";
import { ApiError } from "../api/client";
import { campaignTags, createCampaign, getCustomer, listSegments, previewAudience } from "../api/endpoints";
import type { Customer } from "../api/types";
import { MessageSuggestions, TimingHint } from "../components/AiAssist";
import { AudiencePreviewPanel } from "../components/AudiencePreviewPanel";
import { MessageEditor } from "../components/MessageEditor";
import { PacingNote } from "../components/PacingNote";
import { RuleBuilder } from "../components/RuleBuilder";
import {
  VariantEditor,
  experimentProblems,
  newExperiment,
  type ExperimentDraft,
} from "../components/VariantEditor";
import {
  Button,
  Card,
  ErrorState,
  FieldErrors,
  Loading,
  Modal,
  PageHeader,
  fieldErrors,
  inputClass,
} from "../components/ui";
import { formatNumber } from "../format";
import { useAsync } from "../hooks/useAsync";
import { useAudiencePreview } from "../hooks/useAudiencePreview";
import {
  errorsByNode,
  fromRulesJson,
  newCondition,
  newGroup,
  toRulesJson,
  type GroupNode,
} from "../rules/model";
import { describeRules } from "../rules/describe";
import { toLocalInput } from "../schedule/next";
import { useMessagePreview } from "../hooks/useMessagePreview";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

type AudienceMode = "builder" | "segment";

export function CampaignComposer() {
  useDocumentTitle("New campaign");
  const location = useLocation();
  const navigate = useNavigate();
  // From the audience builder ({rules}) or "Clone" on a campaign page (all four).
  const from = location.state as { rules?: unknown; name?: string; message?: string; tags?: string[] } | null;
  const initialRules = from?.rules;
  const [mode, setMode] = useState<AudienceMode>("builder");
  const [root, setRoot] = useState<GroupNode>(() =>
    initialRules ? fromRulesJson(initialRules) : newGroup("AND", [newCondition("totalSpends")]),
  );
  const [segmentId, setSegmentId] = useState("");
  const segments = useAsync(listSegments, []);
  const segment = segments.data?.items.find((s) => s.id === segmentId);
  const segmentRoot = useMemo(() => (segment ? fromRulesJson(segment.rules) : null), [segment]);
  const audienceRoot = mode === "builder" ? root : segmentRoot;
  const preview = useAudiencePreview(audienceRoot);

  const [name, setName] = useState(from?.name ?? "");
  const [message, setMessage] = useState(from?.message ?? "");
  const [tags, setTags] = useState((from?.tags ?? []).join(", "));
  const [when, setWhen] = useState<"now" | "later" | "local">("now");
  const [scheduledAt, setScheduledAt] = useState("");
  const [localTime, setLocalTime] = useState("20:00");
  const [confirming, setConfirming] = useState(false);
  const [experiment, setExperiment] = useState<ExperimentDraft>();
  const [error, setError] = useState<unknown>();

  const sampleId = preview.preview?.sample[0]?.id;
  const sampleDetail = useAsync(
    () => (sampleId ? getCustomer(sampleId) : Promise.resolve(undefined)),
    [sampleId],
  );
  const sample: Customer | undefined = sampleDetail.data ?? preview.preview?.sample[0];

  const rules = audienceRoot ? toRulesJson(audienceRoot) : undefined;
  // AI helpers get the audience only once it is valid; otherwise they advise for everyone.
  const validRules = rules && preview.nodeErrors.size === 0 ? rules : undefined;
  const ruleErrors = useMemo(() => {
    const merged = new Map(preview.nodeErrors);
    if (mode === "builder" && error instanceof ApiError && error.status === 422) {
      const details = error.details.filter((d) => (d.field ?? d.path ?? "").includes("segmentRules"));
      errorsByNode(root, details).forEach((m, id) => merged.set(id, [...(merged.get(id) ?? []), ...m]));
    }
    return merged;
  }, [preview.nodeErrors, error, mode, root]);

  const messagePreview = useMessagePreview(message, sample);
  // the server refuses a past time (422 schedule_in_past): say so here, and offer "send now"
  const scheduleInPast =
    when === "later" && scheduledAt !== "" && new Date(scheduledAt).getTime() <= Date.now();
  const canReview =
    name.trim() !== "" &&
    (experiment
      ? experimentProblems(experiment).length === 0
      : message.trim() !== "" && (messagePreview.stale || messagePreview.errors.length === 0)) &&
    Boolean(rules) &&
    preview.nodeErrors.size === 0 &&
    (when === "now" ||
      (when === "local" && /^([01]\d|2[0-3]):[0-5]\d$/.test(localTime)) ||
      (when === "later" && scheduledAt !== "" && !scheduleInPast));

  async function suggestTags() {
    try {
      const result = await campaignTags({ name, rules: validRules, message });
      setTags(result.tags.join(", "));
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <PageHeader title="New campaign" subtitle="Pick an audience, write the message, and launch." />
      {error && !(error instanceof ApiError && error.status === 422) ? (
        <div className="mb-3">
          <ErrorState error={error} />
        </div>
      ) : null}
      {error instanceof ApiError && error.status === 422 ? (
        <p
          role="alert"
          className="mb-3 rounded-md border border-rose-200 bg-rose-50 p-2 text-sm text-rose-800"
        >
          {error.message}
        </p>
      ) : null}
      <div className="grid gap-4 xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <div className="min-w-0 space-y-4">
          <Card title="Campaign">
            <label htmlFor="campaign-name" className="text-sm font-medium">
              Name
            </label>
            <input
              id="campaign-name"
              className={inputClass}
              value={name}
              aria-invalid={fieldErrors(error, "name").length > 0}
              onChange={(e) => setName(e.target.value)}
              placeholder="Spring win-back"
            />
            <FieldErrors messages={fieldErrors(error, "name")} />
          </Card>
          <Card title="Audience">
            <div role="radiogroup" aria-label="Audience source" className="mb-3 flex flex-wrap gap-4 text-sm">
              <label className="flex items-center gap-1.5">
                <input
                  type="radio"
                  name="audience-mode"
                  checked={mode === "builder"}
                  onChange={() => setMode("builder")}
                />{" "}
                Build rules
              </label>
              <label className="flex items-center gap-1.5">
                <input
                  type="radio"
                  name="audience-mode"
                  checked={mode === "segment"}
                  onChange={() => setMode("segment")}
                />{" "}
                Saved segment
              </label>
            </div>
            {mode === "builder" ? (
              <RuleBuilder value={root} onChange={setRoot} errors={ruleErrors} />
            ) : segments.loading && !segments.data ? (
              <Loading />
            ) : segments.error ? (
              <ErrorState error={segments.error} onRetry={segments.reload} />
            ) : (
              <div>
                <label htmlFor="campaign-segment" className="text-sm font-medium">
                  Segment
                </label>
                <select
                  id="campaign-segment"
                  className={inputClass}
                  value={segmentId}
                  onChange={(e) => setSegmentId(e.target.value)}
                >
                  <option value="">Choose a saved segment…</option>
                  {segments.data?.items.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name}
                    </option>
                  ))}
                </select>
                {segments.data?.items.length === 0 && (
                  <p className="mt-1 text-sm text-slate-500">
                    No saved segments yet; save one in the audience builder.
                  </p>
                )}
                <FieldErrors messages={fieldErrors(error, "segmentId")} />
                {segment && <p className="mt-2 text-xs text-slate-500">{describeRules(segment.rules)}</p>}
              </div>
            )}
            <div className="mt-3 border-t border-slate-100 pt-3">
              {audienceRoot ? (
                <>
                  <AudiencePreviewPanel state={preview} />
                  {preview.nodeErrors.size === 0 && <PacingNote preview={preview.preview} />}
                </>
              ) : (
                <p className="text-sm text-slate-500">Choose a segment to see its size.</p>
              )}
            </div>
          </Card>
          <Card title="Message">
            <label className="mb-2 flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                checked={Boolean(experiment)}
                onChange={(e) => setExperiment(e.target.checked ? newExperiment(message) : undefined)}
              />
              A/B test: several variants and a holdout
            </label>
            {experiment ? (
              <VariantEditor
                value={experiment}
                onChange={setExperiment}
                sample={sample}
                serverErrors={[...fieldErrors(error, "variants"), ...fieldErrors(error, "holdoutShare")]}
              />
            ) : (
              <MessageEditor
                value={message}
                onChange={setMessage}
                sample={sample}
                preview={messagePreview}
                serverErrors={fieldErrors(error, "message")}
              />
            )}
          </Card>
        </div>
        <div className="min-w-0 space-y-4">
          <Card title="AI message ideas">
            <MessageSuggestions
              rules={validRules}
              audienceSize={preview.preview?.count}
              onPick={setMessage}
            />
          </Card>
          <Card title="When">
            <div role="radiogroup" aria-label="When to send" className="flex flex-wrap gap-4 text-sm">
              <label className="flex items-center gap-1.5">
                <input type="radio" name="when" checked={when === "now"} onChange={() => setWhen("now")} />{" "}
                Send now
              </label>
              <label className="flex items-center gap-1.5">
                <input
                  type="radio"
                  name="when"
                  checked={when === "later"}
                  onChange={() => setWhen("later")}
                />{" "}
                Schedule for later
              </label>
              <label className="flex items-center gap-1.5">
                <input
                  type="radio"
                  name="when"
                  checked={when === "local"}
                  onChange={() => setWhen("local")}
                />{" "}
                At a time of day in each customer&apos;s zone
              </label>
            </div>
            {when === "local" && (
              <div className="mt-2">
                <label htmlFor="campaign-local-time" className="text-sm font-medium">
                  Send at (each customer&apos;s own clock)
                </label>
                <input
                  id="campaign-local-time"
                  type="time"
                  className={inputClass}
                  value={localTime}
                  onChange={(e) => setLocalTime(e.target.value)}
                />
                <FieldErrors messages={fieldErrors(error, "sendAtLocalTime")} />
                <p className="mt-1 text-xs text-slate-500" data-testid="local-time-hint">
                  Messages leave in waves: each customer gets it the next time their clock reads{" "}
                  {localTime || "this time"} (their time zone, the workspace&apos;s when unknown).
                </p>
              </div>
            )}
            {when === "later" && (
              <div className="mt-2">
                <label htmlFor="campaign-schedule" className="text-sm font-medium">
                  Send at (your local time)
                </label>
                <input
                  id="campaign-schedule"
                  type="datetime-local"
                  className={inputClass}
                  value={scheduledAt}
                  onChange={(e) => setScheduledAt(e.target.value)}
                />
                <FieldErrors messages={fieldErrors(error, "scheduledAt")} />
                {scheduleInPast && (
                  <p role="alert" className="mt-1 text-sm text-red-700" data-testid="schedule-in-past">
                    This time has passed.{" "}
                    <button
                      type="button"
                      className="font-medium underline"
                      onClick={() => {
                        setWhen("now");
                        setScheduledAt("");
                      }}
                    >
                      Send now instead
                    </button>
                  </p>
                )}
              </div>
            )}
            <div className="mt-3">
              <TimingHint
                rules={validRules}
                onPick={(at) => {
                  setWhen("later");
                  setScheduledAt(toLocalInput(at));
                }}
              />
            </div>
          </Card>
          <Card title="Tags">
            <label htmlFor="campaign-tags" className="text-sm font-medium">
              Tags (comma separated)
            </label>
            <div className="flex gap-2">
              <input
                id="campaign-tags"
                className={inputClass}
                value={tags}
                onChange={(e) => setTags(e.target.value)}
              />
              <Button
                variant="secondary"
                onClick={() => void suggestTags()}
                disabled={!message.trim()}
                aria-label="Suggest tags"
              >
                <Tags className="h-4 w-4" aria-hidden />
              </Button>
            </div>
            <FieldErrors messages={fieldErrors(error, "tags")} />
          </Card>
          <Button
            className="w-full py-3"
            disabled={!canReview}
            onClick={() => {
              setError(undefined);
              setConfirming(true);
            }}
          >
            <Rocket className="h-4 w-4" aria-hidden /> Review and launch
          </Button>
          {!canReview && (
            <p className="text-xs text-slate-500">
              Needs a name, a valid audience and a valid message
              {when === "later" ? " and a future send time" : when === "local" ? " and a time of day" : ""}.
            </p>
          )}
        </div>
      </div>
      {confirming && rules && (
        <ConfirmLaunch
          name={name}
          message={experiment ? experiment.variants[0].message : message}
          experiment={experiment}
          rules={rules}
          segmentId={mode === "segment" ? segmentId : undefined}
          scheduledAt={when === "later" && scheduledAt ? new Date(scheduledAt).toISOString() : undefined}
          sendAtLocalTime={when === "local" ? localTime : undefined}
          tags={tags
            .split(",")
            .map((t) => t.trim())
            .filter(Boolean)}
          sampleName={sample?.name || sample?.id}
          sampleText={sample && !messagePreview.stale ? messagePreview.preview?.text : undefined}
          onCancel={() => setConfirming(false)}
          onError={(err) => {
            setConfirming(false);
            setError(err);
          }}
          onLaunched={(id) => navigate(`/campaigns/${id}`)}
        />
      )}
    </>
  );
}

function ConfirmLaunch(props: {
  name: string;
  message: string;
  experiment?: ExperimentDraft;
  rules: ReturnType<typeof toRulesJson>;
  segmentId?: string;
  scheduledAt?: string;
  sendAtLocalTime?: string;
  tags: string[];
  sampleName?: string;
  sampleText?: string;
  onCancel: () => void;
  onError: (err: unknown) => void;
  onLaunched: (id: string) => void;
}) {
  const { rules, onCancel } = props;
  // at the chosen time: quiet hours and caps are read then
  const count = useAsync(
    () => previewAudience(rules, 1, undefined, props.scheduledAt),
    [JSON.stringify(rules), props.scheduledAt],
  );
  const [busy, setBusy] = useState(false);

  const empty = count.data?.count === 0;

  async function launch() {
    setBusy(true);
    try {
      const campaign = await createCampaign({
        name: props.name.trim(),
        ...(props.experiment
          ? {
              variants: props.experiment.variants,
              holdoutShare: props.experiment.holdoutShare,
              winner: props.experiment.winner,
              attributionDays: props.experiment.attributionDays,
            }
          : { message: props.message }),
        ...(props.segmentId ? { segmentId: props.segmentId } : { segmentRules: rules }),
        scheduledAt: props.scheduledAt,
        sendAtLocalTime: props.sendAtLocalTime,
        tags: props.tags.length ? props.tags : undefined,
      });
      props.onLaunched(campaign.id);
    } catch (err) {
      props.onError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal title="Launch this campaign?" onClose={onCancel}>
      <div className="space-y-3 text-sm">
        <p>
          <strong>{props.name}</strong> will be sent{" "}
          {props.sendAtLocalTime
            ? `at ${props.sendAtLocalTime} in each customer's time zone`
            : props.scheduledAt
              ? `on ${new Date(props.scheduledAt).toLocaleString()}`
              : "right away"}{" "}
          to
        </p>
        {count.loading ? (
          <Loading label="Counting the audience…" />
        ) : count.error ? (
          <ErrorState error={count.error} onRetry={count.reload} />
        ) : (
          <p className="text-3xl font-bold" data-testid="confirm-audience-size">
            {formatNumber(count.data?.count)} customers
          </p>
        )}
        <PacingNote preview={count.data} testId="confirm-pacing-note" />
        <p className="text-xs text-slate-500">{describeRules(rules)}</p>
        {props.experiment ? (
          <ul className="space-y-1">
            {props.experiment.variants.map((v) => (
              <li key={v.id} className="whitespace-pre-wrap rounded bg-slate-50 p-2">
                <strong>
                  {v.id} ({v.share}%)
                </strong>{" "}
                {v.message}
              </li>
            ))}
            <li className="text-xs text-slate-600">
              {props.experiment.holdoutShare}% held out, not messaged
            </li>
          </ul>
        ) : (
          <p className="whitespace-pre-wrap rounded bg-slate-50 p-2">{props.message}</p>
        )}
        {props.sampleText && (
          <p className="text-xs text-slate-600">
            {props.sampleName} will read:{" "}
            <span className="whitespace-pre-wrap text-slate-800">{props.sampleText}</span>
          </p>
        )}
        {empty && (
          <p role="alert" className="text-sm text-red-700" data-testid="empty-audience">
            No customer matches this audience, so there is nobody to send to. Go back and widen the rules.
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={onCancel}>
            Back
          </Button>
          <Button
            busy={busy}
            disabled={count.loading || Boolean(count.error) || empty}
            onClick={() => void launch()}
          >
            <Rocket className="h-4 w-4" aria-hidden /> Launch to {formatNumber(count.data?.count)} customers
          </Button>
        </div>
      </div>
    </Modal>
  );
}
