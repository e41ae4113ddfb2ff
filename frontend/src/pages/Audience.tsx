import { Save, Send, Sparkles, Trash2, Wand2 } from "lucide-react";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import {
  createSegment,
  deleteSegment,
  listSegments,
  lookalikeAudience,
  previewAudience,
  segmentFromText,
  updateSegment,
} from "../api/endpoints";
import type { Lookalike, Preview, Segment } from "../api/types";
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
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { fromRulesJson, newCondition, newGroup, toRulesJson, type GroupNode } from "../rules/model";
import { describeRules } from "../rules/describe";

export function AudiencePage() {
  useDocumentTitle("Audience builder");
  const [root, setRootState] = useState<GroupNode>(() => newGroup("AND", [newCondition("totalSpends")]));
  // Until the first edit the empty starting condition is not an error ("enter a value").
  const [edited, setEdited] = useState(false);
  const setRoot = (next: GroupNode) => {
    setEdited(true);
    setRootState(next);
  };
  const livePreview = useAudiencePreview(root);
  const preview = edited ? livePreview : { ...livePreview, nodeErrors: new Map<string, string[]>() };
  const untouched = !edited && livePreview.nodeErrors.size > 0;
  // The saved segment last loaded: "Save changes" renames or edits it in place.
  const [loaded, setLoaded] = useState<Segment>();
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
      <p
        className="sticky top-0 z-10 mb-3 rounded-md border border-indigo-200 bg-white/95 px-3 py-2 text-sm shadow-sm 2xl:hidden"
        data-testid="audience-count-compact"
      >
        Matching customers:{" "}
        <strong className="tabular-nums">
          {untouched || livePreview.nodeErrors.size > 0 || !livePreview.preview
            ? "—"
            : formatNumber(livePreview.preview.count)}
        </strong>
      </p>
      <div className="grid gap-4 2xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
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
            {untouched ? (
              <p className="text-sm text-slate-600">
                Enter a value in the condition to count matching customers.
              </p>
            ) : (
              <AudiencePreviewPanel state={preview} />
            )}
          </Card>
          <SaveSegment
            key={loaded?.id ?? "new"}
            root={root}
            editing={loaded}
            onSaved={(s) => {
              if (loaded && s.id === loaded.id) setLoaded(s);
              segments.reload();
            }}
          />
          <LookalikePanel
            root={root}
            onLoad={(rules) => setRoot(fromRulesJson(rules))}
            onSaved={segments.reload}
          />
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
                  onLoad={(s) => {
                    setRoot(fromRulesJson(s.rules));
                    setLoaded(s);
                  }}
                  onDeleted={(id) => {
                    if (loaded?.id === id) setLoaded(undefined);
                    segments.reload();
                  }}
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

function SaveSegment({
  root,
  editing,
  onSaved,
}: {
  root: GroupNode;
  editing?: Segment;
  onSaved: (s: Segment) => void;
}) {
  const [name, setName] = useState(editing?.name ?? "");
  const [description, setDescription] = useState(editing?.description ?? "");
  const [busy, setBusy] = useState<"new" | "update">();
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState<Segment>();

  async function save(mode: "new" | "update") {
    setBusy(mode);
    setError(undefined);
    setSaved(undefined);
    try {
      const result =
        mode === "update" && editing
          ? await updateSegment(editing.id, name, toRulesJson(root), description || undefined)
          : await createSegment(name, toRulesJson(root), description || undefined);
      setSaved(result);
      onSaved(result);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    void save(editing ? "update" : "new");
  }

  const nameErrors = fieldErrors(error, "name");
  const rulesErrors = fieldErrors(error, "rules");
  return (
    <Card title={editing ? "Edit segment" : "Save as segment"}>
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
        <div className="flex flex-wrap gap-2">
          <Button type="submit" busy={busy === (editing ? "update" : "new")} disabled={!name.trim()}>
            <Save className="h-4 w-4" aria-hidden />{" "}
            {editing ? `Save changes to “${editing.name}”` : "Save segment"}
          </Button>
          {editing && (
            <Button
              variant="secondary"
              busy={busy === "new"}
              disabled={!name.trim()}
              onClick={() => void save("new")}
            >
              Save as a new segment
            </Button>
          )}
        </div>
        {saved && (
          <p role="status" className="text-sm text-emerald-700">
            Saved “{saved.name}”.
          </p>
        )}
      </form>
    </Card>
  );
}

function LookalikePanel({
  root,
  onLoad,
  onSaved,
}: {
  root: GroupNode;
  onLoad: (rules: unknown) => void;
  onSaved: () => void;
}) {
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [result, setResult] = useState<Lookalike>();
  // Counted by the same preview as the Audience panel, so the two can never disagree.
  const [preview, setPreview] = useState<Preview>();
  const [name, setName] = useState("");
  const [saveError, setSaveError] = useState<unknown>();
  const [saved, setSaved] = useState<Segment>();

  async function run() {
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    setPreview(undefined);
    setSaved(undefined);
    setSaveError(undefined);
    try {
      const found = await lookalikeAudience({ rules: toRulesJson(root) });
      setResult(found);
      setPreview(await previewAudience(found.rules, 5));
      setName(`Lookalikes of ${describeRules(toRulesJson(root))}`.slice(0, 200));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function save() {
    if (!result) return;
    setSaveError(undefined);
    try {
      setSaved(await createSegment(name, result.rules, "Lookalike audience"));
      onSaved();
    } catch (err) {
      setSaveError(err);
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
            <SourceTag source={result.source} />{" "}
            <strong data-testid="lookalike-count">{preview ? formatNumber(preview.count) : "…"}</strong>{" "}
            customers match the lookalike rules. {result.explanation}
          </p>
          <p className="text-xs text-slate-500" data-testid="lookalike-rules">
            {describeRules(result.rules)}
          </p>
          {preview && preview.sample.length > 0 && (
            <ul className="text-xs text-slate-600" aria-label="Some of the lookalike customers">
              {preview.sample.map((c) => (
                <li key={c.id}>
                  {c.name || c.id}
                  {c.email ? ` · ${c.email}` : ""}
                </li>
              ))}
            </ul>
          )}
          <div className="flex flex-wrap gap-2">
            <Button variant="secondary" onClick={() => onLoad(result.rules)}>
              Load these rules
            </Button>
            <Button
              variant="secondary"
              onClick={() => navigate("/campaigns/new", { state: { rules: result.rules } })}
            >
              <Send className="h-4 w-4" aria-hidden /> Use in a campaign
            </Button>
          </div>
          <div className="flex flex-wrap items-end gap-2">
            <div className="min-w-0 flex-1">
              <label htmlFor="lookalike-segment-name" className="text-xs font-medium">
                Segment name
              </label>
              <input
                id="lookalike-segment-name"
                className={inputClass}
                value={name}
                onChange={(e) => setName(e.target.value)}
              />
            </div>
            <Button variant="secondary" disabled={!name.trim()} onClick={() => void save()}>
              <Save className="h-4 w-4" aria-hidden /> Save as segment
            </Button>
          </div>
          <FieldErrors messages={fieldErrors(saveError, "name")} />
          {saveError && fieldErrors(saveError, "name").length === 0 ? <ErrorState error={saveError} /> : null}
          {saved && (
            <p role="status" className="text-emerald-700">
              Saved “{saved.name}”.
            </p>
          )}
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
  onDeleted: (id: string) => void;
}) {
  const [error, setError] = useState<unknown>();
  async function remove(s: Segment) {
    if (!window.confirm(`Delete segment “${s.name}”?`)) return;
    try {
      await deleteSegment(s.id);
      onDeleted(s.id);
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
