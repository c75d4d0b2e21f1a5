/**
 * The measured splits of a suite's items: every item is in dev (what decisions read) or test (what reports
 * headline). A probe whose meta.split is "dev" or "test" keeps it (the demo world splits its own items); a probe that
 * carries no split (a user dataset: XSTest, HarmBench, a file) is assigned by a stable hash of (suite name, meta.group
 * ?? probe id), dev with probability `devShare`, so every variant of one probe (jailbreak framings, multi-turn openers)
 * and every probe of one group falls on the same side. A probe marked for training or red teaming ("train",
 * "redteam") must never be measured: that is an error naming the suite. Any other split value (e.g. the world's
 * former "heldout") is hash-assigned like a probe without one.
 *
 * Slices: the probe's meta.slice (a string: the world uses "in-distribution", "out-of-distribution", "rephrased");
 * no slice = one pool. A measurement's `limit` applies per (split, slice) stratum, seeded, so dev, test and every slice
 * keep their share however small the limit. A probe may also name a report slice (meta.reportSlice, a string: the
 * world's rephrased test probes add "rephrased/in-distribution" or "rephrased/out-of-distribution", the template slice
 * of the item they rephrase): figures are computed for them too, from the items the strata chose, but they never change
 * which items are chosen (a breakdown of a slice, not a stratum of its own).
 */
import { contentHash } from "../domain/hash.ts";
import type { MeasuredSplit } from "../domain/round-metrics.ts";
import type { Probe } from "../domain/types.ts";
import { sampleItems } from "./runner.ts";
import type { SuiteItem } from "./types.ts";

/** Splits whose probes feed training or the red team: measuring them would score the model on what it was fit to. */
export const UNMEASURABLE_SPLITS: readonly string[] = ["train", "redteam"];

/** The default share of dev among probes that carry no split (config benchmarks.devShare). */
export const DEFAULT_DEV_SHARE = 0.3;

/** A uniform number in [0, 1) from a content hash (the first 52 bits of sha256). */
function unitOf(value: unknown): number {
  return Number.parseInt(contentHash(value).slice(0, 13), 16) / 2 ** 52;
}

/** The measured split of one probe of suite `suite` (see the file comment). */
export function splitOf(suite: string, probe: Probe, devShare: number): MeasuredSplit {
  const s = probe.meta?.split;
  if (s === "dev" || s === "test") return s;
  if (typeof s === "string" && UNMEASURABLE_SPLITS.includes(s))
    throw new Error(
      `suite ${suite}: probe ${probe.id} is in the ${s} split, which is never measured ` +
        `(only dev and test probes, or probes without a split, may be in a measured suite)`,
    );
  const group = probe.meta?.group;
  return unitOf({ suite, group: group === undefined ? `id:${probe.id}` : `group:${String(group)}` }) < devShare
    ? "dev"
    : "test";
}

/** The probe's slice (meta.slice), or undefined when it has none. */
export function sliceOf(probe: Probe): string | undefined {
  const s = probe.meta?.slice;
  return typeof s === "string" && s.length > 0 ? s : undefined;
}

/** The probe's report slice (meta.reportSlice), unless it has none or it is its own slice. */
export function reportSliceOf(probe: Probe): string | undefined {
  const r = probe.meta?.reportSlice;
  return typeof r === "string" && r.length > 0 && r !== sliceOf(probe) ? r : undefined;
}

export interface Stratum {
  split: MeasuredSplit;
  /** The sampling slice (meta.slice). */
  slice?: string;
  /** The report-only slice (meta.reportSlice): figured, never sampled by. */
  also?: string;
}

/** Whether an item of stratum `st` counts in slice `name` (its own slice or one of its report slices). */
export function inSlice(st: Stratum, name: string): boolean {
  return st.slice === name || st.also === name;
}

/** The chosen items of a suite and the stratum of each (by item key). */
export interface Partition {
  items: SuiteItem[];
  strata: Map<string, Stratum>;
}

/**
 * Partitions a suite's items into dev and test (and slices) and keeps at most `limit` items per (split, slice) stratum
 * (a seeded subset; undefined = all). The chosen items keep the suite's order.
 */
export function partitionItems(
  suite: string,
  items: readonly SuiteItem[],
  o: { devShare: number; limit?: number; seed?: number },
): Partition {
  const strata = new Map<string, Stratum>();
  const groups = new Map<string, SuiteItem[]>();
  for (const it of items) {
    const st: Stratum = { split: splitOf(suite, it.probe, o.devShare) };
    const slice = sliceOf(it.probe);
    if (slice !== undefined) st.slice = slice;
    const also = reportSliceOf(it.probe);
    if (also !== undefined) st.also = also;
    strata.set(it.key, st);
    const k = `${st.split}\u0000${st.slice ?? ""}`;
    const list = groups.get(k);
    if (list) list.push(it);
    else groups.set(k, [it]);
  }
  const keep = new Set<SuiteItem>();
  for (const list of groups.values())
    for (const it of o.limit === undefined ? list : sampleItems(list, o.limit, o.seed ?? 1)) keep.add(it);
  return { items: items.filter((it) => keep.has(it)), strata };
}
