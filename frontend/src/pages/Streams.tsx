import { RotateCcw } from "lucide-react";
import { useCallback, useEffect, useState } from "react";
import { getStreams, replayDlq } from "../api/endpoints";
import type { StreamInfo } from "../api/types";
import { useAuth } from "../auth";
import { Button, Card, EmptyState, ErrorState, Loading, PageHeader } from "../components/ui";
import { formatAge, formatNumber } from "../format";
import { useInterval } from "../hooks/useAsync";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

const REFRESH_MS = 2000;

export function Streams() {
  useDocumentTitle("Streams");
  const [streams, setStreams] = useState<StreamInfo[]>();
  const [error, setError] = useState<unknown>();
  const [updatedAt, setUpdatedAt] = useState<Date>();
  const [paused, setPaused] = useState(false);

  const load = useCallback(async () => {
    try {
      const result = await getStreams();
      setStreams(result.streams);
      setError(undefined);
      setUpdatedAt(new Date());
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  useInterval(() => void load(), paused ? null : REFRESH_MS);

  return (
    <>
      <PageHeader
        title="Streams"
        subtitle={`Every Redis stream and consumer group, refreshed every ${REFRESH_MS / 1000} s.${updatedAt ? ` Last update ${updatedAt.toLocaleTimeString()}.` : ""}`}
        actions={
          <Button variant="secondary" aria-pressed={paused} onClick={() => setPaused((p) => !p)}>
            {paused ? "Resume updates" : "Pause updates"}
          </Button>
        }
      />
      {error ? (
        <div className="mb-3">
          <ErrorState error={error} onRetry={() => void load()} />
        </div>
      ) : null}
      {!streams && !error && <Loading />}
      {streams && streams.length === 0 && <EmptyState title="No streams yet" />}
      <div className="grid gap-4 xl:grid-cols-2">
        {streams?.map((s) => (
          <StreamCard key={s.stream} stream={s} onReplayed={() => void load()} />
        ))}
      </div>
    </>
  );
}

function StreamCard({ stream, onReplayed }: { stream: StreamInfo; onReplayed: () => void }) {
  const isAdmin = useAuth().user?.role === "admin";
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string>();
  const [error, setError] = useState<unknown>();

  async function replay() {
    if (!window.confirm(`Replay ${stream.dlq.length} dead-lettered entries back onto ${stream.stream}?`))
      return;
    setBusy(true);
    setError(undefined);
    try {
      const { replayed } = await replayDlq(stream.stream);
      setNote(`Replayed ${replayed} entries.`);
      onReplayed();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card
      title={<span data-testid="stream-name">{stream.stream}</span>}
      actions={
        <span className="flex items-center gap-2 text-sm">
          <span className={stream.dlq.length > 0 ? "font-semibold text-rose-700" : "text-slate-600"}>
            DLQ {formatNumber(stream.dlq.length)}
          </span>
          <Button
            variant="secondary"
            busy={busy}
            disabled={stream.dlq.length === 0 || !isAdmin}
            title={isAdmin ? undefined : "Only an admin may replay dead letters"}
            onClick={() => void replay()}
            aria-label={`Replay DLQ of ${stream.stream}`}
          >
            <RotateCcw className="h-4 w-4" aria-hidden /> Replay DLQ
          </Button>
        </span>
      }
    >
      <p className="text-sm text-slate-600">Length {formatNumber(stream.length)}</p>
      {note && (
        <p role="status" className="text-sm text-emerald-700">
          {note}
        </p>
      )}
      {error ? <ErrorState error={error} /> : null}
      {stream.groups.length === 0 ? (
        <EmptyState title="No consumer groups" />
      ) : (
        <div className="mt-2 overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Consumer groups of {stream.stream}</caption>
            <thead className="text-xs uppercase text-slate-500">
              <tr>
                <th scope="col" className="py-1 pr-2">
                  Group
                </th>
                <th scope="col" className="py-1 pr-2 text-right">
                  Lag
                </th>
                <th scope="col" className="py-1 pr-2 text-right">
                  Pending
                </th>
                <th scope="col" className="py-1 pr-2 text-right">
                  Oldest pending
                </th>
                <th scope="col" className="py-1 pr-2">
                  Consumers
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {stream.groups.map((g) => (
                <tr key={g.name}>
                  <td className="py-1.5 pr-2 font-medium">{g.name}</td>
                  <td
                    className={`py-1.5 pr-2 text-right tabular-nums ${(g.lag ?? 0) > 1000 ? "text-amber-700" : ""}`}
                  >
                    {formatNumber(g.lag)}
                  </td>
                  <td className="py-1.5 pr-2 text-right tabular-nums">{formatNumber(g.pending)}</td>
                  <td className="py-1.5 pr-2 text-right tabular-nums">{formatAge(g.oldestPendingAgeMs)}</td>
                  <td className="py-1.5 pr-2 text-xs text-slate-600">
                    {g.consumers.length === 0
                      ? "none"
                      : g.consumers.map((c) => (
                          <div key={c.name} title={`idle ${formatAge(c.idleMs)}`}>
                            {c.name} · {c.pending} pending · idle {formatAge(c.idleMs)}
                          </div>
                        ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {stream.partitions && stream.partitions.length > 1 && <Partitions stream={stream} />}
    </Card>
  );
}

export function Partitions({ stream }: { stream: StreamInfo }) {
  return (
    <div className="mt-3 overflow-x-auto">
      <table className="w-full text-left text-sm" data-testid="stream-partitions">
        <caption className="text-left text-xs uppercase text-slate-500">
          {stream.partitions?.length} partitions of {stream.stream}
        </caption>
        <thead className="text-xs uppercase text-slate-500">
          <tr>
            <th scope="col" className="py-1 pr-2">
              Partition
            </th>
            <th scope="col" className="py-1 pr-2">
              Node
            </th>
            <th scope="col" className="py-1 pr-2 text-right">
              Length
            </th>
            <th scope="col" className="py-1 pr-2 text-right">
              Pending
            </th>
            <th scope="col" className="py-1 pr-2 text-right">
              DLQ
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {stream.partitions?.map((p) => (
            <tr key={p.stream}>
              <td className="py-1.5 pr-2 font-mono text-xs">{p.stream}</td>
              <td className="py-1.5 pr-2 font-mono text-xs">{p.node}</td>
              <td className="py-1.5 pr-2 text-right tabular-nums">{formatNumber(p.length)}</td>
              <td className="py-1.5 pr-2 text-right tabular-nums">
                {formatNumber(p.groups.reduce((sum, g) => sum + g.pending, 0))}
              </td>
              <td className="py-1.5 pr-2 text-right tabular-nums">{formatNumber(p.dlq.length)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
