/** Exponential backoff with full jitter (AWS architecture blog), honouring a server's Retry-After when given. */
export interface BackoffOptions {
  /** First delay's upper bound, ms (default 500). */
  baseMs?: number;
  /** Cap on the exponential delay, ms (default 30 s). */
  maxMs?: number;
}

/**
 * Delay before retry number `attempt` (1 = first retry). Full jitter: uniform in [0, min(max, base*2^(attempt-1))].
 * When the server sent Retry-After we wait at least that long (plus up to 10% jitter so waiters do not stampede).
 */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const base = opts.baseMs ?? 500;
  const max = opts.maxMs ?? 30_000;
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  const jittered = random() * ceiling;
  if (retryAfterMs === undefined) return Math.round(jittered);
  return Math.round(Math.max(retryAfterMs * (1 + 0.1 * random()), jittered));
}
