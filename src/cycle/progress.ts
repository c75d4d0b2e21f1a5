/** Progress lines of the cycle: ETAs as "3m12s", and a throttle so long steps log every few seconds, not per item. */

export function etaText(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "?";
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

/** A gate that opens at most every `ms` milliseconds (always on the last update). */
export function throttled(ms: number): (last: boolean) => boolean {
  let t = 0;
  return (last) => {
    const now = Date.now();
    if (!last && now - t < ms) return false;
    t = now;
    return true;
  };
}
