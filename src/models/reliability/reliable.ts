/**
 * The reliability wrapper: composes around any ChatModel (provider-agnostic) and adds, in this order per request:
 * response cache (with in-flight de-duplication) -> concurrency slot -> rate limit (requests and tokens per minute)
 * -> per-attempt timeout -> retries with exponential backoff + full jitter honouring Retry-After -> usage/cost
 * accounting. Limits are held in a `ProviderLimits` object that several wrapped models can share (target and judge
 * on one endpoint share one budget).
 */
import { ModelError, toModelError } from "../errors.ts";
import type { ChatModel, ChatRequest, ChatResult } from "../types.ts";
import { type BackoffOptions, backoffDelay } from "./backoff.ts";
import { cacheableRequest, cacheKey, type ResponseCache } from "./cache.ts";
import { RateLimiter, type RateLimitOptions } from "./rate-limiter.ts";
import { Semaphore } from "./semaphore.ts";
import type { UsageMeter } from "./usage.ts";

export interface ReliabilityOptions extends RateLimitOptions, BackoffOptions {
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** Retries after the first attempt (default 6). */
  maxRetries?: number;
  /** Per-attempt timeout, ms (default 120 s). */
  timeoutMs?: number;
  /** Give up instead of waiting when a server asks for a longer Retry-After than this (default 5 min). */
  maxRetryAfterMs?: number;
}

/** Concurrency and rate budgets of one provider endpoint; share one instance between models on that endpoint. */
export class ProviderLimits {
  readonly semaphore: Semaphore;
  readonly rateLimiter: RateLimiter;
  constructor(opts: ReliabilityOptions = {}, clock?: () => number) {
    this.semaphore = new Semaphore(opts.concurrency ?? 8);
    this.rateLimiter = new RateLimiter(opts, clock);
  }
}

export type ModelEvent =
  | { type: "retry"; modelId: string; attempt: number; kind: string; status?: number; delayMs: number }
  | { type: "failure"; modelId: string; attempts: number; kind: string; status?: number; message: string };

export interface ReliabilityDeps {
  cache?: ResponseCache;
  meter?: UsageMeter;
  limits?: ProviderLimits;
  /** Structured events for logs (messages are already redacted of registered secrets). */
  onEvent?: (event: ModelEvent) => void;
  /** Jitter source (tests). */
  random?: () => number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ModelError("request aborted", "aborted"));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new ModelError("request aborted", "aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function estimateTokens(req: ChatRequest): number {
  let chars = 0;
  for (const m of req.messages) chars += m.content.length + 8;
  return Math.ceil(chars / 4) + (req.maxTokens ?? 256);
}

export class ReliableChatModel implements ChatModel {
  readonly id: string;
  readonly limits: ProviderLimits;
  private readonly inflight = new Map<string, Promise<ChatResult>>();
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly random: () => number;

  constructor(
    readonly inner: ChatModel,
    readonly options: ReliabilityOptions = {},
    private readonly deps: ReliabilityDeps = {},
  ) {
    this.id = inner.id;
    this.limits = deps.limits ?? new ProviderLimits(options);
    this.maxRetries = options.maxRetries ?? 6;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 300_000;
    this.random = deps.random ?? Math.random;
  }

  get cache(): ResponseCache | undefined {
    return this.deps.cache;
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const cache = request.noCache ? undefined : this.deps.cache;
    if (!cache) return this.callWithRetries(request);
    const creq = cacheableRequest(request, this.inner.answerSettings?.(request));
    const key = cacheKey(this.id, creq);
    const hit = cache.get(key);
    if (hit) {
      const usage = { promptTokens: hit.promptTokens, completionTokens: hit.completionTokens };
      this.deps.meter?.success(this.id, usage, true, 0);
      return {
        content: hit.content,
        finishReason: hit.finishReason,
        ...(hit.filter ? { filter: hit.filter } : {}),
        model: hit.model,
        usage,
        cached: true,
        latencyMs: 0,
      };
    }
    const running = this.inflight.get(key);
    if (running) {
      // An identical request is already on its way: share its answer instead of paying twice.
      let r: ChatResult;
      try {
        r = await running;
      } catch (e) {
        this.deps.meter?.failure(this.id);
        throw e;
      }
      this.deps.meter?.success(this.id, r.usage, true, 0);
      return { ...r, cached: true, latencyMs: 0 };
    }
    const p = this.callWithRetries(request).then((r) => {
      cache.put(key, this.id, creq, {
        content: r.content,
        finishReason: r.finishReason,
        ...(r.filter ? { filter: r.filter } : {}),
        model: r.model,
        promptTokens: r.usage.promptTokens,
        completionTokens: r.usage.completionTokens,
      });
      return r;
    });
    this.inflight.set(key, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(key);
    }
  }

  chatMany(requests: ChatRequest[]): Promise<ChatResult[]> {
    return Promise.all(requests.map((r) => this.chat(r)));
  }

  private async callWithRetries(request: ChatRequest): Promise<ChatResult> {
    const { semaphore, rateLimiter } = this.limits;
    const meter = this.deps.meter;
    const estimate = rateLimiter.enabled ? estimateTokens(request) : 0;
    for (let attempt = 0; ; attempt++) {
      const slot = semaphore.acquire();
      if (slot) await slot;
      let err: ModelError;
      let sent = false;
      const started = performance.now();
      try {
        if (rateLimiter.enabled) {
          // refused at once (not sent) while an earlier Retry-After has more than maxRetryAfterMs left
          const wait = rateLimiter.acquire(estimate, this.maxRetryAfterMs);
          if (wait) await wait;
        }
        sent = true;
        meter?.attempt(this.id, attempt > 0);
        const result = await this.attemptOnce(request);
        const latencyMs = performance.now() - started;
        if (estimate > 0) rateLimiter.settle(estimate, result.usage.promptTokens + result.usage.completionTokens);
        meter?.success(this.id, result.usage, false, latencyMs);
        result.latencyMs ??= latencyMs;
        return result;
      } catch (e) {
        err = toModelError(e);
      } finally {
        semaphore.release();
      }
      const attempts = attempt + (sent ? 1 : 0);
      if (err.kind === "aborted" || !err.retryable || attempt >= this.maxRetries) {
        meter?.failure(this.id);
        this.deps.onEvent?.({
          type: "failure",
          modelId: this.id,
          attempts,
          kind: err.kind,
          status: err.status,
          message: err.message,
        });
        throw err;
      }
      if (err.retryAfterMs !== undefined) {
        // Pause the endpoint first, even when this request gives up below: the requests queued behind it then wait,
        // or are refused unsent when the pause is too long, instead of each getting the same 429.
        if (err.kind === "rate_limit") rateLimiter.pauseFor(err.retryAfterMs);
        if (err.retryAfterMs > this.maxRetryAfterMs) {
          meter?.failure(this.id);
          const giveUp = new ModelError(
            `server asked to retry after ${Math.round(err.retryAfterMs / 1000)} s (> maxRetryAfterMs): ${err.message}`,
            err.kind,
            { status: err.status, retryAfterMs: err.retryAfterMs },
          );
          this.deps.onEvent?.({
            type: "failure",
            modelId: this.id,
            attempts,
            kind: giveUp.kind,
            status: giveUp.status,
            message: giveUp.message,
          });
          throw giveUp;
        }
      }
      const delayMs = backoffDelay(attempt + 1, this.options, err.retryAfterMs, this.random);
      this.deps.onEvent?.({
        type: "retry",
        modelId: this.id,
        attempt: attempt + 1,
        kind: err.kind,
        status: err.status,
        delayMs,
      });
      await sleep(delayMs, request.signal);
    }
  }

  /** One attempt with the per-attempt timeout, combined with the caller's signal. */
  private async attemptOnce(request: ChatRequest): Promise<ChatResult> {
    const user = request.signal;
    if (user?.aborted) throw new ModelError("request aborted", "aborted");
    if (this.inner.handlesTimeout) return this.inner.chat({ ...request, timeoutMs: this.timeoutMs });
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, this.timeoutMs);
    const onAbort = () => ac.abort();
    user?.addEventListener("abort", onAbort, { once: true });
    try {
      return await this.inner.chat({ ...request, signal: ac.signal });
    } catch (e) {
      if (timedOut) throw new ModelError(`request timed out after ${this.timeoutMs} ms`, "timeout");
      if (user?.aborted) throw new ModelError("request aborted", "aborted");
      throw e;
    } finally {
      clearTimeout(timer);
      user?.removeEventListener("abort", onAbort);
    }
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}

export function withReliability(
  model: ChatModel,
  options?: ReliabilityOptions,
  deps?: ReliabilityDeps,
): ReliableChatModel {
  return new ReliableChatModel(model, options, deps);
}
