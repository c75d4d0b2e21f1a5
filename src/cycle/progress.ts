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

/** A round's steps after round 0's measurement, in order (a round trained without DPO has no train-dpo). */
export const ROUND_STEPS = ["break", "curate", "train-sft", "train-dpo", "measure", "regression"] as const;

/**
 * Milliseconds left in a cycle run of `rounds` rounds once step `at` has finished, if every round runs (a run stops
 * early when its gates pass). Each remaining step is estimated by the mean duration of the same step finished so far
 * (a round's steps differ a hundredfold: curate ~1 s, SFT ~150 s on the demo), else by the mean of every finished
 * step; NaN before any step finished.
 */
export function cycleEtaMs(
  finished: readonly { step: string; seconds: number }[],
  at: { round: number; step: string },
  rounds: number,
): number {
  if (!finished.length) return Number.NaN;
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const overall = mean(finished.map((f) => f.seconds));
  const estimate = (step: string) => {
    const same = finished.filter((f) => f.step === step).map((f) => f.seconds);
    return same.length ? mean(same) : overall;
  };
  const i = at.round === 0 ? ROUND_STEPS.length : ROUND_STEPS.indexOf(at.step as (typeof ROUND_STEPS)[number]);
  const left = [
    ...(at.round === 0 ? [] : ROUND_STEPS.slice(i + 1)),
    ...Array.from({ length: Math.max(0, rounds - at.round) }, () => ROUND_STEPS).flat(),
  ];
  return 1000 * left.reduce((s, step) => s + estimate(step), 0);
}
