/** A rate in [0, 1] as people read it: "12.5%"; "n/a" when it was not measured (null, undefined, NaN). */
export function percent(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? "n/a" : `${(100 * x).toFixed(digits)}%`;
}
