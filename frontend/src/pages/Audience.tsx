import { Save, Send, Sparkles, Trash2, Wand2 } from "lucide-react";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import {
  createSegment,
  deleteSegment,
  listSegments,
  lookalikeAudience,
  segmentFromText,
} from "../api/endpoints";
import type { Lookalike, Segment } from "../api/types";
import { AudiencePreviewPanel } from "../components/AudiencePreviewPanel";
import { RuleBuilder } from "../components/RuleBuilder";
import {
  Button,
  Card,
  EmptyState,
  ErrorState,
  FieldErrors,
  ListState,
  PageHeader,
  SourceTag,
  fieldErrors,
  inputClass,
} from "../components/ui";
import { formatNumber } from "../format";
import { useAsync } from "../hooks/useAsync";
import { useAudiencePreview } from "../hooks/useAudiencePreview";
import { fromRulesJson, newCondition, newGroup, toRulesJson, type GroupNode } from "../rules/model";
import { describeRules } from "../rules/describe";

export function AudiencePage() {
  const [root, setRoot] = useState<GroupNode>(() => newGroup("AND", [newCondition("totalSpends")]));
  const preview = useAudiencePreview(root);
  const navigate = useNavigate();
  const segments = useAsync(listSegments, []);

  return (
    <>
      <PageHeader
        title="Audience builder"
        subtitle="Combine conditions with ALL/ANY groups; the count updates as you edit."
        actions={
          <Button onClick={() => navigate("/campaigns/new", { state: { rules: toRulesJson(root) } })}>
            <Send className="h-4 w-4" aria-hidden /> Use in a campaign
          </Button>
        }
      />
      <div className="grid gap-4 xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <div className="min-w-0 space-y-4">
          <DescribeInWords onRules={(rules) => setRoot(fromRulesJson(rules))} />
          <Card title="Rules">
            <RuleBuilder value={root} onChange={setRoot} errors={preview.nodeErrors} />
            <p className="mt-2 text-xs text-slate-500" data-testid="rules-description">
              {describeRules(toRulesJson(root))}
            </p>
          </Card>
        </div>
        <div className="min-w-0 space-y-4">
          <Card title="Audience">
            <AudiencePreviewPanel state={preview} />
          </Card>
          <SaveSegment root={root} onSaved={segments.reload} />
          <LookalikePanel root={root} onLoad={(rules) => setRoot(fromRulesJson(rules))} />
          <Card title="Saved segments">
            <ListState
              loading={segments.loading}
              error={segments.error}
              items={segments.data?.items}
              onRetry={segments.reload}
              empty={<EmptyState title="No saved segments yet" />}
            >
              {(items) => (
                <SegmentList
                  items={items}
                  onLoad={(s) => setRoot(fromRulesJson(s.rules))}
                  onDeleted={segments.reload}
                />
              )}
            </ListState>
          </Card>
        </div>
      </div>
    </>
  );
}

function DescribeInWords({ onRules }: { onRules: (rules: unknown) => void }) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [explanation, setExplanation] = useState<{ text: string; source: string; skipped: string[] }>();

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setExplanation(undefined); // a failure must not leave the previous result under the error
    try {
      const result = await segmentFromText(text);
      onRules(result.rules);
      setExplanation({ text: result.explanation, source: result.source, skipped: result.skipped ?? [] });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card
      title={
        <span className="inline-flex items-center gap-2">
          <Wand2 className="h-4 w-4" aria-hidden /> Describe it in words
        </span>
      }
    >
      <form onSubmit={onSubmit} className="space-y-2">
        <label htmlFor="describe-audience" className="sr-only">
          Describe the audience
        </label>
        <textarea
          id="describe-audience"
          rows={2}
          className={inputClass}
          placeholder="e.g. customers who spent over 10,000 and have not visited in 90 days"
          value={text}
          aria-invalid={Boolean(error)}
          onChange={(e) => setText(e.target.value)}
        />
        <FieldErrors messages={fieldErrors(error, "description")} />
        {error && fieldErrors(error, "description").length === 0 ? <ErrorState error={error} /> : null}
        <Button type="submit" busy={busy} disabled={!text.trim()}>
          <Sparkles className="h-4 w-4" aria-hidden /> Build rules
        </Button>
        {explanation && (
          <p className="text-sm text-slate-700" data-testid="ai-explanation">
            <SourceTag source={explanation.source} /> {explanation.text}
          </p>
        )}
        {explanation && explanation.skipped.length > 0 && (
          <p className="text-sm text-amber-800" role="status" data-testid="ai-skipped">
            Not understood, left out of the rules:{" "}
            {explanation.skipped.map((words, i) => (
              <span key={words}>
                {i > 0 ? ", " : ""}
                <mark className="rounded bg-amber-100 px-1">{words}</mark>
              </span>
            ))}
          </p>
        )}
      </form>
    </Card>
  );
}

function SaveSegment({ root, onSaved }: { root: GroupNode; onSaved: () => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState<Segment>();

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setSaved(undefined);
    try {
      setSaved(await createSegment(name, toRulesJson(root), description || undefined));
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const nameErrors = fieldErrors(error, "name");
  const rulesErrors = fieldErrors(error, "rules");
  return (
    <Card title="Save as segment">
      <form onSubmit={onSubmit} className="space-y-2">
        <div>
          <label htmlFor="segment-name" className="text-sm font-medium">
            Name
          </label>
          <input
            id="segment-name"
            className={inputClass}
            value={name}
            aria-invalid={nameErrors.length > 0}
            onChange={(e) => setName(e.target.value)}
          />
          <FieldErrors messages={nameErrors} />
        </div>
        <div>
          <label htmlFor="segment-description" className="text-sm font-medium">
            Description (optional)
          </label>
          <input
            id="segment-description"
            className={inputClass}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </div>
        <FieldErrors messages={rulesErrors} />
        {error && nameErrors.length + rulesErrors.length === 0 ? <ErrorState error={error} /> : null}
        <Button type="submit" busy={busy} disabled={!name.trim()}>
          <Save className="h-4 w-4" aria-hidden /> Save segment
        </Button>
        {saved && (
          <p role="status" className="text-sm text-emerald-700">
            Saved “{saved.name}”.
          </p>
        )}
      </form>
    </Card>
  );
}

function LookalikePanel({ root, onLoad }: { root: GroupNode; onLoad: (rules: unknown) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [result, setResult] = useState<Lookalike>();

  async function run() {
    setBusy(true);
    setError(undefined);
    try {
      setResult(await lookalikeAudience({ rules: toRulesJson(root) }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card
      data-testid="lookalike-card"

      title="Lookalike audience"
      actions={
        <Button variant="secondary" busy={busy} onClick={() => void run()}>
          <Sparkles className="h-4 w-4" aria-hidden /> Find lookalikes
        </Button>
      }
    >
      <p className="text-sm text-slate-600">Customers who resemble the current audience but are not in it.</p>
      {error ? (
        <div className="mt-2">
          <ErrorState error={error} />
        </div>
      ) : null}
      {result && (
        <div className="mt-2 space-y-2 text-sm" data-testid="lookalike-result">
          <p>
            <SourceTag source={result.source} /> <strong>{formatNumber(result.size)}</strong> lookalike
            customers. {result.explanation}
          </p>
          <p className="text-xs text-slate-500" data-testid="lookalike-rules">
            {describeRules(result.rules)}
          </p>
          {result.sample.length > 0 && (
            <ul className="text-xs text-slate-600">
              {result.sample.slice(0, 5).map((c) => (
                <li key={c.id}>
                  {c.name} · {c.email}
                </li>
              ))}
            </ul>
          )}
          <Button variant="secondary" onClick={() => onLoad(result.rules)}>
            Load these rules
          </Button>
        </div>
      )}
    </Card>
  );
}

function SegmentList({
  items,
  onLoad,
  onDeleted,
}: {
  items: Segment[];
  onLoad: (s: Segment) => void;
  onDeleted: () => void;
}) {
  const [error, setError] = useState<unknown>();
  async function remove(s: Segment) {
    if (!window.confirm(`Delete segment “${s.name}”?`)) return;
    try {
      await deleteSegment(s.id);
      onDeleted();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <>
      {error ? <ErrorState error={error} /> : null}
      <ul className="divide-y divide-slate-100 text-sm">
        {items.map((s) => (
          <li key={s.id} className="flex items-center justify-between gap-2 py-2">
            <span className="min-w-0">
              <span className="font-medium">{s.name}</span>
              <span className="block truncate text-xs text-slate-500">
                {s.description || describeRules(s.rules)}
              </span>
            </span>
            <span className="flex shrink-0 gap-1">
              <Button variant="secondary" onClick={() => onLoad(s)} aria-label={`Load segment ${s.name}`}>
                Load
              </Button>
              <Button variant="ghost" onClick={() => void remove(s)} aria-label={`Delete segment ${s.name}`}>
                <Trash2 className="h-4 w-4" aria-hidden />
              </Button>
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}
