import { useEffect, useState } from "react";
import { campaignEventsUrl, getRealtime } from "../api/endpoints";
import type { Realtime } from "../api/types";

export const FINISHED = ["completed", "cancelled"];
const POLL_MS = 2000;

export interface CampaignStats {
  stats: Realtime | undefined;
  error: unknown;
  live: boolean;
}

/** Realtime stats: one GET, then server-sent events; falls back to polling if the stream breaks. */
export function useCampaignStats(id: string): CampaignStats {
  const [stats, setStats] = useState<Realtime>();
  const [error, setError] = useState<unknown>();
  const [live, setLive] = useState(false);

  useEffect(() => {
    let closed = false;
    let source: EventSource | null = null;
    let timer = 0;
    setStats(undefined);

    const accept = (next: Realtime) => {
      if (closed) return;
      setStats(next);
      setError(undefined);
      if (FINISHED.includes(next.status)) stop();
    };
    const stop = () => {
      source?.close();
      source = null;
      window.clearTimeout(timer);
      setLive(false);
    };
    const poll = async () => {
      try {
        const next = await getRealtime(id);
        accept(next);
        if (!FINISHED.includes(next.status) && !closed) timer = window.setTimeout(poll, POLL_MS);
      } catch (err) {
        if (closed) return;
        setError(err);
        timer = window.setTimeout(poll, POLL_MS * 2);
      }
    };
    const listen = () => {
      if (typeof EventSource === "undefined") return void poll();
      source = new EventSource(campaignEventsUrl(id), { withCredentials: true });
      source.addEventListener("open", () => !closed && setLive(true));
      source.addEventListener("stats", (event) => {
        try {
          accept(JSON.parse((event as MessageEvent<string>).data) as Realtime);
        } catch {
          // a malformed event is skipped; the next one carries the full state again
        }
      });
      source.addEventListener("error", () => {
        // The server ends the stream after completion; otherwise the browser retries.
        // If it gave up (CLOSED), keep the page current by polling.
        if (closed) return;
        setLive(false);
        if (source && source.readyState === EventSource.CLOSED) {
          source = null;
          void poll();
        }
      });
    };

    getRealtime(id)
      .then((first) => {
        accept(first);
        if (!closed && !FINISHED.includes(first.status)) listen();
      })
      .catch((err: unknown) => {
        if (closed) return;
        setError(err);
        listen();
      });
    return () => {
      closed = true;
      stop();
    };
  }, [id]);

  return { stats, error, live };
}
