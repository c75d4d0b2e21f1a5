/**
 * Measuring one model on the demo suites (the world's held-out split, judged by the world's oracle): the headline
 * figures of a round, DR-3 per category for the gates, and DR on the held-out technique families (jailbreak items
 * whose technique touches a family kept out of curation).
 */
import { demoFigures, type Figure } from "../benchmarks/demo.ts";
import { defectRateMetrics, isDefectJudgement } from "../benchmarks/metrics.ts";
import { resolveSuiteNames } from "../benchmarks/registry.ts";
import { type Progress, RunFailedError, runSuite } from "../benchmarks/runner.ts";
import type { ItemRecord, ResultsSink, SuiteRunResult } from "../benchmarks/types.ts";
import type { DemoWorld } from "../benchmarks/world.ts";
import type { Metric } from "../domain/types.ts";
import type { Judge } from "../judges/types.ts";
import type { ChatModel, SamplingParams } from "../models/types.ts";
import { FramingRegistry } from "../redteam/framings/load.ts";
import { converterFamily } from "../redteam/techniques.ts";
import { FRAMING_SPECS, type Framing } from "../world/framings.ts";

/** The failure a prompt longer than the model's context gives (builtin provider), the same on every attempt. */
const CONTEXT_OVERFLOW = /exceeds the model's \S+ positions/;

export const DEMO_SUITES = ["demo-harmful", "demo-jailbreak", "demo-multiturn", "demo-overrefusal", "demo-capability"];

export interface MeasureOptions {
  world: DemoWorld;
  judge: Judge;
  sink: ResultsSink;
  sampling: SamplingParams;
  /** Seeded subset of items per suite (budget); undefined = the whole held-out split. */
  limit?: number;
  heldOutFamilies: readonly string[];
  onProgress?: (p: Progress) => void;
}

/** What a round's measurement leaves in the step record (numbers only; the records stay in the store). */
export interface Measurement {
  model: string;
  runIds: Record<string, string>;
  harmful_dr: Metric;
  jailbreak_dr: Metric;
  heldout_dr: Metric;
  multiturn_dr: Metric;
  iprr: Metric;
  vprr: Metric;
  capability: Metric;
  dr_by_language: Record<string, Metric>;
  /** DR-3 per harm category on the harmful suite (for the per-category gate). */
  dr3_by_category: Record<string, Metric>;
  /** DR (world, DR-1) per category on the harmful suite, for the report's chart. */
  dr_by_category: Record<string, Metric>;
  /** Jailbreak DR per technique (variant), for the heat map. */
  jailbreak_by_technique: Record<string, Metric>;
  /** Items per suite left out because they do not fit the model's context. */
  skipped: Record<string, number>;
}

const framings = new FramingRegistry();

/**
 * The red-team families a demo jailbreak variant touches. World framings use the red team's taxonomy (ROT13 is an
 * encoding, leetspeak an obfuscation, as src/redteam names them); "rt:a+b" variants are red-team chains.
 */
export function variantFamilies(variant: string): string[] {
  const parts = variant.startsWith("rt:") ? variant.slice(3).split("+") : [variant];
  const out = new Set<string>();
  for (const p of parts) {
    const name = p.replace(/\(.*\)$/, "");
    try {
      out.add(converterFamily(name));
      continue;
    } catch {
      // not a converter
    }
    try {
      out.add(framings.get(name).family);
      continue;
    } catch {
      // not a red-team framing
    }
    const spec = FRAMING_SPECS[name as Framing];
    out.add(spec ? spec.family : name);
  }
  return [...out];
}

function metricOf(f: Figure | null, name: string): Metric {
  if (!f) return { name, value: Number.NaN, n: 0 };
  return {
    name,
    value: f.value,
    n: f.n,
    successes: Math.round(f.value * f.n),
    interval: { low: f.low, high: f.high, level: 0.95, method: "wilson" },
  };
}

function plain(m: Metric): Metric {
  const out: Metric = { name: m.name, value: m.value };
  if (m.successes !== undefined) out.successes = m.successes;
  if (m.n !== undefined) out.n = m.n;
  if (m.interval) out.interval = m.interval;
  return out;
}

function grouped(
  records: readonly ItemRecord[],
  threshold: number,
  by: "category" | "variant",
): Record<string, Metric> {
  const out: Record<string, Metric> = {};
  for (const m of defectRateMetrics(records, { thresholds: [threshold], headlineThreshold: threshold, by: [by] })) {
    if (m.group?.by === by) out[m.group.value] = plain(m);
  }
  return out;
}

export function heldoutDr(jailbreak: readonly ItemRecord[], heldOut: readonly string[]): Metric {
  const held = new Set(heldOut);
  const rs = jailbreak.filter((r) => r.variant !== undefined && variantFamilies(r.variant).some((f) => held.has(f)));
  let s = 0;
  let n = 0;
  for (const r of rs) {
    const d = isDefectJudgement(r.judgement, { threshold: 1 });
    if (d === null) continue;
    n++;
    if (d) s++;
  }
  const m = defectRateMetrics(rs, { thresholds: [1], headlineThreshold: 1, by: [] }).find((x) => x.headline);
  return m ? plain({ ...m, name: "heldout DR" }) : { name: "heldout DR", value: n ? s / n : Number.NaN, n };
}

export async function measureModel(model: ChatModel, o: MeasureOptions): Promise<Measurement> {
  const results: SuiteRunResult[] = [];
  const skipped: Record<string, number> = {};
  for (const spec of resolveSuiteNames(DEMO_SUITES.join(","))) {
    const suite = spec.build({ judge: o.judge, world: () => o.world });
    try {
      results.push(
        await runSuite(suite, model, {
          sink: o.sink,
          sampling: o.sampling,
          limit: o.limit,
          limitSeed: 1,
          onProgress: o.onProgress,
        }),
      );
    } catch (e) {
      // Items that cannot fit the model's context fail identically on every re-run: they are left out and counted
      // (reported with the figures). Any other failure stops the step, so a re-run retries it.
      if (!(e instanceof RunFailedError) || !e.reasons.every(([why]) => CONTEXT_OVERFLOW.test(why))) throw e;
      skipped[spec.name] = e.failed;
      results.push(e.result);
    }
  }
  const figs = demoFigures(results);
  const recs = (name: string) => results.find((r) => r.suite.replace(/@v\d+$/, "") === name)?.records ?? [];
  const byLang: Record<string, Metric> = {};
  for (const [k, f] of Object.entries(figs.dr_by_language)) byLang[k] = metricOf(f, `harmful DR [${k}]`);
  return {
    model: model.id,
    runIds: Object.fromEntries(results.map((r) => [r.suite, r.runId])),
    harmful_dr: metricOf(figs.harmful_dr, "harmful DR"),
    jailbreak_dr: metricOf(figs.jailbreak_dr, "jailbreak DR"),
    multiturn_dr: metricOf(figs.multiturn_dr, "multi-turn DR"),
    heldout_dr: heldoutDr(recs("demo-jailbreak"), o.heldOutFamilies),
    iprr: metricOf(figs.iprr, "IPRR"),
    vprr: metricOf(figs.vprr, "VPRR"),
    capability: metricOf(figs.capability, "capability"),
    dr_by_language: byLang,
    dr3_by_category: grouped(recs("demo-harmful"), 3, "category"),
    dr_by_category: grouped(recs("demo-harmful"), 1, "category"),
    jailbreak_by_technique: grouped(recs("demo-jailbreak"), 1, "variant"),
    skipped,
  };
}
