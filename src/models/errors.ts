/**
 * Errors every provider throws, classified so the reliability wrapper can decide whether to retry without knowing
 * the provider. Messages are redacted of registered secrets before they are stored (see secrets.ts) and made safe
 * to print (one line, control and invisible characters shown as marks): they quote what endpoints answer, and the
 * CLI prints them as they are.
 */
import { redactedForTerminal } from "./secrets.ts";

export type ModelErrorKind =
  /** 429 or a provider's "overloaded": retry after the server's Retry-After. */
  | "rate_limit"
  /** 5xx. */
  | "server"
  /** The per-request timeout fired. */
  | "timeout"
  /** Connection refused/reset, DNS, socket hang up. */
  | "network"
  /** The server answered 2xx with a body we cannot parse (bad JSON, no choices). */
  | "malformed"
  /** 4xx other than 408/409/429: the request itself is wrong; retrying cannot help. */
  | "client"
  /** 401/403, or an account the endpoint will not serve (OpenAI's 429 insufficient_quota). */
  | "auth"
  /** The caller aborted. */
  | "aborted"
  /** Bad provider options (missing key, missing file): a user error. */
  | "config";

const RETRYABLE: ReadonlySet<ModelErrorKind> = new Set(["rate_limit", "server", "timeout", "network", "malformed"]);

export interface ModelErrorDetails {
  status?: number;
  /** Milliseconds the server asked us to wait (Retry-After / retry-after-ms). */
  retryAfterMs?: number;
  cause?: unknown;
}

export class ModelError extends Error {
  readonly status?: number;
  readonly retryAfterMs?: number;
  constructor(
    message: string,
    readonly kind: ModelErrorKind,
    details: ModelErrorDetails = {},
  ) {
    super(
      redactedForTerminal(message, { oneLine: true }),
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = "ModelError";
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

/** The most characters of an endpoint's own error text that a message quotes. */
export const MAX_ENDPOINT_TEXT = 500;

/**
 * Text an endpoint sent (its error message or body) as a message quotes it: secrets redacted before the cut (so the
 * cut cannot leave part of a key behind), then one terminal-safe line of at most MAX_ENDPOINT_TEXT characters.
 */
export function endpointText(text: string): string {
  return redactedForTerminal(text, { oneLine: true, max: MAX_ENDPOINT_TEXT });
}

/** Maps an HTTP status to an error kind. */
export function kindForStatus(status: number): ModelErrorKind {
  if (status === 429) return "rate_limit";
  if (status === 401 || status === 403) return "auth";
  if (status === 408) return "timeout";
  if (status === 409 || status >= 500) return "server";
  return "client";
}

/**
 * Parses Retry-After (delta-seconds or HTTP-date) and the non-standard retry-after-ms header into milliseconds.
 * Returns undefined when absent or unparseable. `now` is injectable for tests.
 */
export function parseRetryAfter(
  get: (name: string) => string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  const ms = get("retry-after-ms");
  if (ms != null && ms.trim() !== "") {
    const v = Number(ms);
    if (Number.isFinite(v) && v >= 0) return v;
  }
  const ra = get("retry-after");
  if (ra == null || ra.trim() === "") return undefined;
  const secs = Number(ra);
  if (Number.isFinite(secs)) return secs >= 0 ? secs * 1000 : undefined;
  const date = Date.parse(ra);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Classifies any thrown value into a ModelError (providers call this on what their SDK throws). */
export function toModelError(err: unknown): ModelError {
  if (err instanceof ModelError) return err;
  if (err instanceof SyntaxError)
    return new ModelError(`malformed response: ${err.message}`, "malformed", { cause: err });
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string } } | undefined;
  const name = e?.name ?? "";
  const msg = e?.message ?? String(err);
  if (name === "AbortError" || name === "APIUserAbortError") return new ModelError("request aborted", "aborted");
  if (name === "TimeoutError" || name === "APIConnectionTimeoutError")
    return new ModelError("request timed out", "timeout");
  return new ModelError(msg, "network", { cause: err });
}

/** What contextOverflowError says (the same on every engine): an item that can never run on this model. */
export const CONTEXT_OVERFLOW_PATTERN = /exceeds the model's \S+ positions/;

/**
 * The error every local engine (builtin, llama.cpp) gives a prompt that does not fit its context, with the same
 * wording on each (kind "client": serve answers 400; the red team's isContextOverflow recognises it; bench and the
 * cycle report such an item as not run, never as a verdict).
 */
export function contextOverflowError(promptTokens: number, maxTokens: number, limit: number): ModelError {
  return new ModelError(
    `prompt (${promptTokens} tokens) + maxTokens (${maxTokens}) exceeds the model's ${limit} positions (its context window is ${limit} tokens)`,
    "client",
  );
}

/**
 * The token limit of a request that gives none, on a local engine: a fixed number, or with "context" the positions
 * left after the prompt (at least 1, so a prompt that fills the context is refused by contextOverflowError, never
 * answered with nothing).
 */
export function defaultMaxTokens(setting: number | "context", promptTokens: number, limit: number): number {
  return setting === "context" ? Math.max(1, limit - promptTokens) : setting;
}
