/** Progress lines of the cycle: a throttle so long steps log every few seconds, not per item (ETAs: domain/eta.ts). */

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
