import { useEffect, useMemo, useState } from "react";
import { ApiError } from "../api/client";
import { previewAudience } from "../api/endpoints";
import type { Preview } from "../api/types";
import { errorsByNode, localProblems, toRulesJson, type GroupNode } from "../rules/model";
import { useDebounced } from "./useAsync";

export interface AudiencePreview {
  preview: Preview | undefined;
  loading: boolean;
  error: unknown;
  nodeErrors: Map<string, string[]>;
  /** The exact JSON the preview was computed for. */
  rulesKey: string;
}

/** Live audience size and sample for a rule tree, debounced, newest answer wins. */
export function useAudiencePreview(root: GroupNode | null, sampleSize = 5, delayMs = 300): AudiencePreview {
  const rulesKey = root ? JSON.stringify(toRulesJson(root)) : "";
  const local = useMemo(() => (root ? localProblems(root) : new Map<string, string[]>()), [root]);
  const debouncedKey = useDebounced(rulesKey, delayMs);
  const [preview, setPreview] = useState<Preview>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(false);
  const [serverErrors, setServerErrors] = useState<{ key: string; details: ApiError["details"] }>();

  useEffect(() => {
    if (!debouncedKey || local.size > 0) {
      setLoading(false);
      return;
    }
    const controller = new AbortController();
    setLoading(true);
    previewAudience(JSON.parse(debouncedKey), sampleSize, controller.signal)
      .then((result) => {
        setPreview(result);
        setError(undefined);
        setServerErrors(undefined);
      })
      .catch((err: unknown) => {
        if ((err as Error).name === "AbortError") return;
        setError(err);
        if (err instanceof ApiError && err.status === 422)
          setServerErrors({ key: debouncedKey, details: err.details });
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [debouncedKey, local.size, sampleSize]);

  const nodeErrors = useMemo(() => {
    const merged = new Map(local);
    if (root && serverErrors && serverErrors.key === rulesKey) {
      errorsByNode(root, serverErrors.details).forEach((msgs, id) =>
        merged.set(id, [...(merged.get(id) ?? []), ...msgs]),
      );
    }
    return merged;
  }, [local, root, serverErrors, rulesKey]);

  return { preview, loading: loading || debouncedKey !== rulesKey, error, nodeErrors, rulesKey };
}
