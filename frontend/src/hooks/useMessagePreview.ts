import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { previewMessage } from "../api/endpoints";
import type { Customer, MessagePreview } from "../api/types";
import { useDebounced } from "./useAsync";

export interface MessagePreviewState {
  preview: MessagePreview | undefined;
  /** Why the template cannot be rendered (the server's 422), for the message field. */
  errors: string[];
  loading: boolean;
  /** The preview could not be asked for (network, server down): not the template's fault. */
  failed: boolean;
  /** True while the preview shown is for an older text than the one typed. */
  stale: boolean;
}

/** The message as the sample customer will receive it, rendered by the server. */
export function useMessagePreview(
  message: string,
  sample: Customer | undefined,
  delayMs = 250,
): MessagePreviewState {
  const key = JSON.stringify([message, sample ?? {}]);
  const debounced = useDebounced(key, delayMs);
  const [state, setState] = useState<{
    key: string;
    preview?: MessagePreview;
    errors: string[];
    failed?: boolean;
  }>({ key: "", errors: [] });
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    const [text, customer] = JSON.parse(debounced) as [string, object];
    if (!text.trim()) {
      setState({ key: debounced, errors: [] });
      return;
    }
    const controller = new AbortController();
    setLoading(true);
    previewMessage(text, customer, controller.signal)
      .then((preview) => setState({ key: debounced, preview, errors: [] }))
      .catch((err: unknown) => {
        if ((err as Error).name === "AbortError") return;
        if (err instanceof ApiError && err.status === 422)
          setState({ key: debounced, errors: [err.message] });
        else setState({ key: debounced, errors: [], failed: true });
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [debounced]);

  return {
    preview: state.preview,
    errors: state.errors,
    loading,
    failed: Boolean(state.failed),
    stale: state.key !== key,
  };
}
