/**
 * Item-paired comparison of two demo cycle runs (`breakfix cycle --json --seeds N`) on the DEV split, for recipe and
 * organism decisions: for each round asked (a number, or `rc`: each seed's own release candidate), the dev items both
 * runs measured are paired (seed i of A with seed i of B, same item key), discordant pairs are pooled over seeds, and
 * the exact McNemar test says whether the two differ beyond item noise. Comparing means of a few seeds with a fixed
 * margin decides on noise: on the demo, round-1 dev IPRR moves by 8 points from seed to seed (src/world/README.md).
 * It reads dev records only (the world's dev probes, plain and rephrased): it never reads a test item.
 *
 *   npx tsx src/world/paired-dev.ts --a RESULT.json --a-workspace DIR --b RESULT.json --b-workspace DIR [--rounds 1,rc]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { ItemRecord } from "../benchmarks/types.ts";
import { Steps } from "../cycle/steps.ts";
import { runIfMain } from "../domain/script.ts";
import { mcnemar } from "../domain/stats.ts";
import { Store } from "../store/store.ts";
import { loadDemoWorld } from "./suites.ts";

/** Outcomes of one seed's round on one figure: item key -> outcome (true = refused / defect / correct). */
export type Outcomes = ReadonlyMap<string, boolean>;

export interface PairedFigure {
  /** Pairs (items both runs measured), pooled over seeds. */
  n: number;
  /** Share of pairs with outcome true, in A and in B. */
  a: number;
  b: number;
  /** Discordant pairs: true in A only, true in B only. */
  onlyA: number;
  onlyB: number;
  /** Exact McNemar p on the pooled discordant pairs. */
  p: number;
}

/** Pairs seed i of A with seed i of B by item key and pools the discordant pairs over seeds. */
export function pairSeeds(a: readonly Outcomes[], b: readonly Outcomes[]): PairedFigure {
  if (a.length !== b.length) throw new Error(`A has ${a.length} seeds, B ${b.length}: pair runs of as many seeds`);
  let n = 0;
  let trueA = 0;
  let trueB = 0;
  let onlyA = 0;
  let onlyB = 0;
  a.forEach((oa, s) => {
    for (const [k, x] of oa) {
      const y = b[s].get(k);
      if (y === undefined) continue;
      n++;
      trueA += Number(x);
      trueB += Number(y);
      if (x && !y) onlyA++;
      if (!x && y) onlyB++;
    }
  });
  return { n, a: n ? trueA / n : Number.NaN, b: n ? trueB / n : Number.NaN, onlyA, onlyB, p: mcnemar(onlyA, onlyB) };
}

/** What each figure pairs: a suite's records (of one label, when given) and which way is better. */
export const PAIRED_FIGURES = [
  { name: "IPRR (unsafe twins refused)", suite: "demo-overrefusal", label: "unsafe", higherIsBetter: true },
  { name: "VPRR (benign look-alikes refused)", suite: "demo-overrefusal", label: "safe", higherIsBetter: false },
  { name: "harmful DR", suite: "demo-harmful", higherIsBetter: false },
  { name: "capability", suite: "demo-capability", higherIsBetter: true },
] as const;

/**
 * The outcomes of the items in `ids` (probe ids) of one suite (of one label) in a round's measurement; records of other
 * items are never kept. This script passes the dev items only; the item-7 test (cycle.improves.e2e.test.ts) reports
 * the test items with it.
 */
export function itemOutcomes(
  store: Store,
  runId: string,
  round: number,
  suite: string,
  ids: ReadonlySet<string>,
  label?: string,
): Map<string, boolean> {
  // A measurement's bench runs hold both splits' items (dev and test list the same run ids).
  // (A step record of an older version is one flat RoundMetrics with runIds at the top.)
  const m = new Steps(store, runId).get<{ dev?: { runIds?: Record<string, string> }; runIds?: Record<string, string> }>(
    round,
    "measure",
  );
  if (!m) throw new Error(`run ${runId}: round ${round} has no measurement`);
  const bench = Object.entries(m.dev?.runIds ?? m.runIds ?? {}).find(
    ([k]) => k === suite || k.startsWith(`${suite}@`),
  )?.[1];
  if (!bench) throw new Error(`run ${runId}: round ${round} did not measure ${suite}`);
  const out = new Map<string, boolean>();
  for (const { value: r } of store.artifacts.list<ItemRecord>("bench.record", bench))
    if (ids.has(r.probeId) && r.outcome !== null && (label === undefined || r.label === label))
      out.set(r.itemKey, r.outcome);
  return out;
}

interface SeedResult {
  runId: string;
  releaseCandidate: number | null;
}

/** The result object of saved `breakfix cycle --json` output: its last line (progress or summary lines may precede it). */
export function readCycleResult(file: string): unknown {
  const raw = readFileSync(file, "utf8");
  const at = raw.lastIndexOf("\n{");
  return JSON.parse(at < 0 ? raw : raw.slice(at + 1));
}

/** The per-seed run ids and release candidates of a `breakfix cycle --json` result. */
export function seedResults(file: string): SeedResult[] {
  const o = readCycleResult(file) as SeedResult & { seeds?: SeedResult[] };
  return (o.seeds ?? [o]).map((s) => ({ runId: s.runId, releaseCandidate: s.releaseCandidate }));
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      a: { type: "string" },
      "a-workspace": { type: "string" },
      b: { type: "string" },
      "b-workspace": { type: "string" },
      rounds: { type: "string", default: "1,rc" },
    },
  });
  const need = (k: "a" | "a-workspace" | "b" | "b-workspace") => {
    const v = values[k];
    if (!v) throw new Error(`--${k} is required (see the file comment)`);
    return v;
  };
  const runs = (["a", "b"] as const).map((s) => ({
    seeds: seedResults(need(s)),
    store: Store.open(need(`${s}-workspace`), { readonly: true }),
  }));
  const devIds = new Set(
    loadDemoWorld()
      .probes({ rephrased: true })
      .filter((p) => p.meta?.split === "dev")
      .map((p) => p.id),
  );
  try {
    for (const r of (values.rounds ?? "").split(",")) {
      const roundOf = (s: SeedResult) => (r === "rc" ? (s.releaseCandidate ?? 0) : Number(r));
      console.log(
        `== ${r === "rc" ? `release candidates (A ${runs[0].seeds.map(roundOf)}, B ${runs[1].seeds.map(roundOf)})` : `round ${r}`}, dev`,
      );
      for (const f of PAIRED_FIGURES) {
        const [a, b] = runs.map(({ seeds, store }) =>
          seeds.map((s) =>
            itemOutcomes(store, s.runId, roundOf(s), f.suite, devIds, "label" in f ? f.label : undefined),
          ),
        );
        const x = pairSeeds(a, b);
        console.log(
          `${f.name}: A ${pct(x.a)}, B ${pct(x.b)} (n=${x.n} pairs; ${x.onlyA} true in A only, ${x.onlyB} in B only; ` +
            `exact McNemar p=${x.p.toPrecision(2)}; ${f.higherIsBetter ? "higher" : "lower"} is better)`,
        );
      }
    }
  } finally {
    for (const r of runs) r.store.close();
  }
}

runIfMain(import.meta.filename, main);
