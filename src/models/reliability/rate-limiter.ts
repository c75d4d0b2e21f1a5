/**
 * Requests-per-minute and tokens-per-minute limits as two token buckets, refilled continuously. A bucket's burst
 * (capacity) defaults to one second's worth, so over any window of T seconds at most burst + rate*T units pass.
 * Token costs are estimated before a request and corrected with the real usage after it (`settle`). A 429 with
 * Retry-After pauses the whole limiter (`pauseFor`), so one rate-limited provider is not hammered by other waiters;
 * a caller that will not wait that long says so (`acquire`'s maxPauseMs) and is refused at once instead.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { ModelError } from "../errors.ts";

export interface RateLimitOptions {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** Bucket capacity in seconds of refill (default 1). */
  burstSeconds?: number;
}

type Clock = () => number;

class Bucket {
  private level: number;
  private last: number;
  readonly capacity: number;
  private readonly perMs: number;
  constructor(perMinute: number, burstSeconds: number, now: number) {
    if (!(perMinute > 0)) throw new Error(`rate limit must be > 0 per minute, got ${perMinute}`);
    this.perMs = perMinute / 60_000;
    this.capacity = Math.max(1, (perMinute / 60) * burstSeconds);
    this.level = this.capacity;
    this.last = now;
  }
  private refill(now: number): void {
    this.level = Math.min(this.capacity, this.level + (now - this.last) * this.perMs);
    this.last = now;
  }
  /** Milliseconds until `amount` is available (0 = now). */
  waitFor(amount: number, now: number): number {
    this.refill(now);
    const need = Math.min(amount, this.capacity) - this.level;
    return need <= 0 ? 0 : Math.ceil(need / this.perMs);
  }
  take(amount: number, now: number): void {
    this.refill(now);
    this.level -= Math.min(amount, this.capacity);
  }
  /** Corrects a previous take (positive = charge more, negative = refund). */
  adjust(delta: number, now: number): void {
    this.refill(now);
    this.level = Math.min(this.capacity, this.level - delta);
  }
}

export class RateLimiter {
  private readonly requests?: Bucket;
  private readonly tokens?: Bucket;
  private pausedUntil = 0;
  /** Serialises waiters so they are served in order (a big token request is not starved by small ones). */
  private queue: Promise<void> = Promise.resolve();
  constructor(
    readonly options: RateLimitOptions,
    private readonly now: Clock = Date.now,
  ) {
    const burst = options.burstSeconds ?? 1;
    if (options.requestsPerMinute) this.requests = new Bucket(options.requestsPerMinute, burst, now());
    if (options.tokensPerMinute) this.tokens = new Bucket(options.tokensPerMinute, burst, now());
  }
  get enabled(): boolean {
    return this.requests !== undefined || this.tokens !== undefined || this.pausedUntil > this.now();
  }
  /**
   * Takes one request costing `tokenEstimate` tokens: returns undefined when it may go now (no one queued, budget
   * available: the common case, with no promise), else a promise that resolves when it may go. While a pause
   * (Retry-After) has more than `maxPauseMs` left, it throws, or the promise rejects, with a rate_limit ModelError
   * whose retryAfterMs is what is left: the request is not sent.
   */
  acquire(tokenEstimate: number, maxPauseMs = Number.POSITIVE_INFINITY): Promise<void> | undefined {
    this.checkPause(maxPauseMs);
    if (this.waiting === 0) {
      const now = this.now();
      if (
        this.pausedUntil <= now &&
        (this.requests?.waitFor(1, now) ?? 0) === 0 &&
        (this.tokens?.waitFor(tokenEstimate, now) ?? 0) === 0
      ) {
        this.requests?.take(1, now);
        this.tokens?.take(tokenEstimate, now);
        return undefined;
      }
    }
    this.waiting++;
    const turn = this.queue
      .then(() => this.waitAndTake(tokenEstimate, maxPauseMs))
      .finally(() => {
        this.waiting--;
      });
    this.queue = turn.catch(() => undefined);
    return turn;
  }
  private waiting = 0;
  private async waitAndTake(tokenEstimate: number, maxPauseMs: number): Promise<void> {
    for (;;) {
      this.checkPause(maxPauseMs);
      const now = this.now();
      const wait = Math.max(
        this.pausedUntil - now,
        this.requests?.waitFor(1, now) ?? 0,
        this.tokens?.waitFor(tokenEstimate, now) ?? 0,
      );
      if (wait <= 0) break;
      await sleep(wait);
    }
    const now = this.now();
    this.requests?.take(1, now);
    this.tokens?.take(tokenEstimate, now);
  }
  /** Charges the difference between the real token count and the estimate taken at acquire. */
  settle(tokenEstimate: number, actualTokens: number): void {
    this.tokens?.adjust(actualTokens - tokenEstimate, this.now());
  }
  /** Holds every waiter for `ms` (a server's Retry-After). */
  pauseFor(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }
  /** Milliseconds left of the pause (0 when none). */
  pausedMs(): number {
    return Math.max(0, this.pausedUntil - this.now());
  }
  private checkPause(maxPauseMs: number): void {
    const left = this.pausedMs();
    if (left > maxPauseMs)
      throw new ModelError(
        `not sent: the endpoint asked to pause ${Math.ceil(left / 1000)} s more (Retry-After)`,
        "rate_limit",
        { retryAfterMs: left },
      );
  }
}
