/**
 * Paired comparison of two runs of the same suite (two models, or two rounds) on the same items: which items
 * flipped, and whether the change is significant (exact McNemar test on the discordant pairs; per-group p-values
 * are Holm-adjusted across the groups of a dimension).
 */
import { mcnemar } from "../domain/stats.ts";
import { type GroupDim, rateMetric } from "./metrics.ts";
import type { ItemRecord, SuiteMetric } from "./types.ts";

export interface Flip {
  itemKey: string;
  probeId: string;
  category: string;
  language: string;
  variant?: string;
  /** Outcome in run A and run B (true = defect / refusal / correct, as the suite defines it). */
  a: boolean;
  b: boolean;
}

export interface PairedStats {
  /** Pairs where both runs have an outcome. */
  n: number;
  /** A true -> B false (with several samples per item: items whose outcome share fell). */
  aOnly: number;
  /** A false -> B true (with several samples per item: items whose outcome share rose). */
  bOnly: number;
  rateA: SuiteMetric;
  rateB: SuiteMetric;
  /** B rate - A rate. */
  delta: number;
  pValue: number;
  /** Holm-adjusted p-value (groups only; equals pValue for the overall row). */
  pAdjusted: number;
  significant: boolean;
}

export interface GroupComparison extends PairedStats {
  by: GroupDim;
  value: string;
}

export interface Comparison {
  suite: string;
  runA: string;
  runB: string;
  targetA: string;
  targetB: string;
  alpha: number;
  overall: PairedStats;
  groups: GroupComparison[];
  flips: Flip[];
  /** Items present in only one run, or without an outcome in one of them. */
  unpaired: { onlyA: number; onlyB: number; noOutcome: number };
}

/**
 * Paired statistics. Without clusters: exact McNemar on discordant pairs. With several samples per item (records
 * carry a cluster), samples of one item are not independent: each item's outcome share is compared instead, and
 * aOnly/bOnly count the items whose share fell/rose (the exact sign test, which is McNemar's test on items).
 */
function pairedStats(pairs: readonly [ItemRecord, ItemRecord][], alpha: number, level: number): PairedStats {
  let aOnly = 0;
  let bOnly = 0;
  let sa = 0;
  let sb = 0;
  const clusters = new Map<string, { a: number; b: number }>();
  for (const [a, b] of pairs) {
    if (a.outcome) sa++;
    if (b.outcome) sb++;
    if (a.cluster !== undefined) {
      const c = clusters.get(a.cluster) ?? { a: 0, b: 0 };
      c.a += a.outcome ? 1 : 0;
      c.b += b.outcome ? 1 : 0;
      clusters.set(a.cluster, c);
      continue;
    }
    if (a.outcome && !b.outcome) aOnly++;
    if (!a.outcome && b.outcome) bOnly++;
  }
  for (const c of clusters.values()) {
    if (c.a > c.b) aOnly++;
    else if (c.b > c.a) bOnly++;
  }
  const n = pairs.length;
  const p = mcnemar(aOnly, bOnly);
  const rateA = rateMetric("A", sa, n, { higherIsBetter: false, level });
  const rateB = rateMetric("B", sb, n, { higherIsBetter: false, level });
  return {
    n,
    aOnly,
    bOnly,
    rateA,
    rateB,
    delta: n === 0 ? Number.NaN : (sb - sa) / n,
    pValue: p,
    pAdjusted: p,
    significant: p < alpha,
  };
}

/** Holm step-down adjustment of a family of p-values (returns adjusted values in input order). */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

export function compareRuns(
  a: readonly ItemRecord[],
  b: readonly ItemRecord[],
  opts: { alpha?: number; level?: number; by?: GroupDim[] } = {},
): Comparison {
  const alpha = opts.alpha ?? 0.05;
  const level = opts.level ?? 0.95;
  const by = opts.by ?? ["label", "category", "language", "variant"];
  if (a.length === 0 || b.length === 0) throw new Error("compare: one of the runs has no records");
  const suitesA = new Set(a.map((r) => r.suite));
  const suitesB = new Set(b.map((r) => r.suite));
  if (suitesA.size !== 1 || suitesB.size !== 1 || [...suitesA][0] !== [...suitesB][0]) {
    throw new Error(
      `compare: runs must be of one and the same suite (A: ${[...suitesA].join(", ")}; B: ${[...suitesB].join(", ")})`,
    );
  }
  const bByKey = new Map(b.map((r) => [r.itemKey, r]));
  const aKeys = new Set(a.map((r) => r.itemKey));
  const pairs: [ItemRecord, ItemRecord][] = [];
  let onlyA = 0;
  let noOutcome = 0;
  for (const ra of a) {
    const rb = bByKey.get(ra.itemKey);
    if (!rb) {
      onlyA++;
      continue;
    }
    if (ra.outcome === null || rb.outcome === null) {
      noOutcome++;
      continue;
    }
    pairs.push([ra, rb]);
  }
  const onlyB = b.filter((r) => !aKeys.has(r.itemKey)).length;
  const overall = pairedStats(pairs, alpha, level);
  const groups: GroupComparison[] = [];
  for (const dim of by) {
    const m = new Map<string, [ItemRecord, ItemRecord][]>();
    for (const p of pairs) {
      const v = p[0][dim];
      if (v === undefined) continue;
      const list = m.get(String(v)) ?? [];
      list.push(p);
      m.set(String(v), list);
    }
    if (m.size < 2) continue; // a single group repeats the overall row
    const rows = [...m.entries()]
      .sort(([x], [y]) => x.localeCompare(y, "en", { numeric: true }))
      .map(([value, ps]) => ({ by: dim, value, ...pairedStats(ps, alpha, level) }));
    const adj = holm(rows.map((r) => r.pValue));
    rows.forEach((r, i) => {
      r.pAdjusted = adj[i];
      r.significant = adj[i] < alpha;
    });
    groups.push(...rows);
  }
  const flips: Flip[] = pairs
    .filter(([x, y]) => x.outcome !== y.outcome)
    .map(([x, y]) => ({
      itemKey: x.itemKey,
      probeId: x.probeId,
      category: x.category,
      language: x.language,
      variant: x.variant,
      a: x.outcome as boolean,
      b: y.outcome as boolean,
    }));
  return {
    suite: a[0].suite,
    runA: a[0].runId,
    runB: b[0].runId,
    targetA: a[0].target,
    targetB: b[0].target,
    alpha,
    overall,
    groups,
    flips,
    unpaired: { onlyA, onlyB, noOutcome },
  };
}
