// The one place that talks HTTP: same origin, session cookie, JSON, the gateway's error model.
export interface ErrorDetail {
  field?: string;
  path?: string;
  message: string;
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }

  /** Messages for one form field ("name", "segmentRules", ...), prefix-matched on path. */
  messagesFor(field: string): string[] {
    return this.details
      .filter((d) => {
        const key = (d.field ?? d.path ?? "").replace(/^body\./, "");
        return key === field || key.startsWith(`${field}.`) || key.startsWith(`${field}[`);
      })
      .map((d) => d.message);
  }
}

export const UNAUTHORIZED_EVENT = "crm:unauthorized";

function normaliseDetails(raw: unknown): ErrorDetail[] {
  if (Array.isArray(raw)) {
    return raw.map((d) =>
      typeof d === "object" && d !== null ? (d as ErrorDetail) : { message: String(d) },
    );
  }
  if (raw && typeof raw === "object") return [{ message: JSON.stringify(raw), ...(raw as object) }];
  return [];
}

async function toApiError(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // not JSON (proxy error page); fall through to the status text
  }
  const err = (body as { error?: { code?: string; message?: string; details?: unknown } })?.error;
  if (err) {
    return new ApiError(
      response.status,
      err.code ?? "error",
      err.message ?? response.statusText,
      normaliseDetails(err.details),
    );
  }
  const status = `${response.status} ${response.statusText || "request failed"}`.trim();
  const message =
    response.status >= 500 ? `The server could not answer (${status}). Try again in a moment.` : status;
  return new ApiError(response.status, "http_error", message);
}

export interface RequestOptions {
  body?: unknown;
  form?: FormData;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export function withQuery(path: string, query?: RequestOptions["query"]): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  let body: BodyInit | undefined;
  if (options.form) body = options.form;
  else if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body,
      credentials: "include",
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(
      0,
      "network_error",
      "The server could not be reached. Check your connection and try again.",
    );
  }
  if (!response.ok) {
    const error = await toApiError(response);
    if (response.status === 401 && !path.startsWith("/auth/")) {
      window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT));
    }
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
