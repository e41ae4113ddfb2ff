import { getCampaignResults } from "../api/endpoints";
import type { CampaignResults, LiftResult, ResultGroup } from "../api/types";
import { formatMoney, formatNumber } from "../format";
import { useAsync, useInterval } from "../hooks/useAsync";
import { Card, EmptyState, ErrorState, Loading } from "./ui";

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const signedPct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(2)} pts`;

/** Conversions, revenue and lift per variant and for the holdout, refreshed as orders arrive. */
export function ResultsPanel({ campaignId }: { campaignId: string }) {
  const results = useAsync(() => getCampaignResults(campaignId), [campaignId]);
  useInterval(results.reload, 5000);
  const r = results.data;
  return (
    <Card title="Results: conversions and lift" className="mt-4">
      {results.error && !r ? <ErrorState error={results.error} onRetry={results.reload} /> : null}
      {!r && results.loading && <Loading />}
      {r && <ResultsBody results={r} />}
    </Card>
  );
}

function ResultsBody({ results }: { results: CampaignResults }) {
  const groups: ResultGroup[] = [...results.variants, ...(results.holdout ? [results.holdout] : [])];
  if (groups.every((g) => g.recipients === 0)) return <EmptyState title="No recipients yet" />;
  const top = Math.max(0.01, ...groups.map((g) => g.high));
  return (
    <div className="space-y-3" data-testid="results-panel">
      <p className="text-xs text-slate-500">
        Orders within {results.attributionDays} days after delivery (last touch). Bars: conversion rate;
        whiskers: 95% interval.
      </p>
      <ul className="space-y-2" aria-label="Conversion rate per group">
        {groups.map((g) => (
          <li key={g.id} data-testid={`result-${g.id}`}>
            <div className="flex flex-wrap justify-between gap-2 text-sm">
              <span className="font-medium">
                {g.id === "holdout" ? "Holdout (not messaged)" : `Variant ${g.id}`}
              </span>
              <span className="tabular-nums text-slate-700">
                {formatNumber(g.conversions)} / {formatNumber(g.recipients)} · {pct(g.conversionRate)} (
                <span data-testid={`interval-${g.id}`}>
                  {pct(g.low)}–{pct(g.high)}
                </span>
                ) · {formatMoney(g.revenue)}
              </span>
            </div>
            <div
              className="relative mt-1 h-4 rounded bg-slate-100"
              role="img"
              aria-label={`${g.id}: ${pct(g.conversionRate)}, 95% interval ${pct(g.low)} to ${pct(g.high)}`}
            >
              <div
                className={`h-4 rounded ${g.id === "holdout" ? "bg-slate-400" : "bg-indigo-500"}`}
                style={{ width: `${(100 * g.conversionRate) / top}%` }}
              />
              <div
                className="absolute top-1/2 h-0.5 -translate-y-1/2 bg-slate-900"
                style={{ left: `${(100 * g.low) / top}%`, width: `${(100 * (g.high - g.low)) / top}%` }}
                data-testid={`whisker-${g.id}`}
              />
            </div>
          </li>
        ))}
      </ul>
      {results.lift ? <LiftLine label="Lift over the holdout" lift={results.lift} /> : null}
      {results.revenueLift ? (
        <LiftLine label="Revenue per recipient over the holdout" lift={results.revenueLift} money />
      ) : null}
      {results.winner && (
        <div className="rounded-md bg-slate-50 p-2 text-sm" data-testid="winner-decision">
          <strong>{results.winner.winner ? `Winner: ${results.winner.winner}` : "No winner"}</strong> — sent{" "}
          {results.winner.send} to the rest. {results.winner.reason}
        </div>
      )}
    </div>
  );
}

function LiftLine({ label, lift, money = false }: { label: string; lift: LiftResult; money?: boolean }) {
  const show = (x: number) => (money ? formatMoney(x) : signedPct(x));
  return (
    <p className="text-sm" data-testid={money ? "revenue-lift" : "lift"}>
      {label}: <strong>{show(lift.absolute)}</strong> ({show(lift.low)} to {show(lift.high)},{" "}
      {Math.round(100 * lift.confidence)}% interval)
      {lift.relative != null ? `, ${pct(lift.relative)} relative` : ""} ·{" "}
      {lift.significant ? (
        <span className="font-medium text-emerald-700">significant</span>
      ) : (
        <span className="text-slate-600">not significant</span>
      )}
    </p>
  );
}
