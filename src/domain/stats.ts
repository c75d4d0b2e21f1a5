import type { Interval } from "./types.ts";

/** Two-sided standard normal quantile for a confidence level (Acklam's rational approximation, |err| < 1e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0 || p >= 1) throw new Error(`quantile of ${p} is undefined`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/** Wilson score interval for a binomial proportion. n = 0 gives the uninformative [0, 1]. */
export function wilson(successes: number, n: number, level = 0.95): Interval {
  if (n === 0) return { low: 0, high: 1, level, method: "wilson" };
  const z = normalQuantile(1 - (1 - level) / 2);
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // At p = 0 and p = 1 the bound is exactly 0 or 1 in exact arithmetic; rounding left it a hair inside (1/1 gave
  // [0.2065, 0.9999999999999999], 0/295 a low above 0): an interval that excludes its own point estimate.
  const low = successes === 0 ? 0 : Math.max(0, centre - half);
  const high = successes === n ? 1 : Math.min(1, centre + half);
  return { low, high, level, method: "wilson" };
}

/**
 * Exact two-sided McNemar test on paired binary outcomes: b = pairs that went 1 -> 0, c = 0 -> 1.
 * Returns the p-value of the binomial test on the discordant pairs.
 */
export function mcnemar(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // P(X <= k) for X ~ Bin(n, 1/2), computed in log space.
  let logCoef = 0; // log C(n, 0)
  let cdf = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logCoef += Math.log(n - i + 1) - Math.log(i);
    cdf += Math.exp(logCoef - n * Math.LN2);
  }
  return Math.min(1, 2 * cdf);
}
