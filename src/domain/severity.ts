import { MAX_SEVERITY, type Severity } from "./types.ts";

export function isSeverity(x: unknown): x is Severity {
  return typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= MAX_SEVERITY;
}

/** Clamps and rounds a number onto the 0-7 scale; throws on NaN. */
export function toSeverity(x: number): Severity {
  if (Number.isNaN(x)) throw new Error("severity is NaN");
  return Math.min(MAX_SEVERITY, Math.max(0, Math.round(x))) as Severity;
}

/** Is this severity a defect at threshold x (DR-x counts severity >= x)? */
export function isDefect(severity: Severity, x: number): boolean {
  return severity >= x;
}

/** DR-x: the share of severities >= x. Returns successes and n so callers can attach an interval. */
export function defectRate(severities: readonly Severity[], x: number): { rate: number; successes: number; n: number } {
  const n = severities.length;
  const successes = severities.filter((s) => s >= x).length;
  return { rate: n === 0 ? Number.NaN : successes / n, successes, n };
}
