/**
 * The run report, filled from the store alone (what `breakfix report RUN` needs): the measure / break / regression
 * step records of every finished round, the gates from the run's recorded settings, and example conversations from
 * the stored suite records. Rendering is src/report's (report.md + self-contained report.html).
 *
 * The report is where the test split's figures go: readMeasurements reads every round's dev, test and slices back
 * from the step records; the decisions (gates, release candidate: gates.ts decideRounds) are handed the dev figures
 * only, and the test figures are the report's headline.
 */
import path from "node:path";
import { BENCH_RECORD_KIND } from "../benchmarks/store-sink.ts";
import type { ItemRecord } from "../benchmarks/types.ts";
import type { Config } from "../config/schema.ts";
import { type RoundMeasurement, type RoundMetrics, reviveRoundMeasurement } from "../domain/round-metrics.ts";
import { wilson } from "../domain/stats.ts";
import type { Metric } from "../domain/types.ts";
import { writeReport } from "../report/render.ts";
import type { ExampleConversation, Regression, RoundSummary, RunReport } from "../report/types.ts";
import type { RunRecord, Store } from "../store/store.ts";
import type { BreakResult } from "./cycle.ts";
import { decideRounds } from "./gates.ts";
import { pickExamples } from "./measure.ts";
import { STEP_KIND } from "./steps.ts";

function step<T>(store: Store, runId: string, round: number, name: string): T | undefined {
  return store.artifacts.get<T>(STEP_KIND, { runId, round, step: name });
}

/** A campaign family's attack success rate, with its Wilson interval at the report's level like every other rate. */
function asr(s: { successes: number; n: number }, name: string, level: number): Metric {
  if (!s.n) return { name, value: Number.NaN, successes: s.successes, n: s.n };
  return { name, value: s.successes / s.n, successes: s.successes, n: s.n, interval: wilson(s.successes, s.n, level) };
}

/**
 * The confidence level the run's figures were measured at (config benchmarks.confidence), as their intervals say;
 * 0.95 for a run with no interval yet.
 */
function levelOf(measurements: readonly RoundMetrics[]): number {
  for (const m of measurements)
    for (const x of [m.harmfulDr, m.iprr, m.vprr, m.capability, m.jailbreakDr, m.multiturnDr])
      if (x?.interval) return x.interval.level;
  return 0.95;
}

/** Every cycle run in the store, newest last. */
export function listCycleRuns(store: Store): { runId: string; record: RunRecord; state?: string }[] {
  const rows = store.db.prepare("SELECT hash, payload FROM runs WHERE kind = 'cycle' ORDER BY seq").all() as {
    hash: string;
    payload: string;
  }[];
  return rows.map((r) => ({
    runId: r.hash,
    record: JSON.parse(r.payload) as RunRecord,
    state: store.runState(r.hash),
  }));
}

/**
 * A round's example conversations: the test split's records its measurement picked (RoundMetrics.examples: per
 * harmful or jailbreak suite, two defects and one safe answer), titled with their split. A run measured before the
 * picks were stored falls back to its suites' first records by key, whatever their split, as it was then.
 */
function examplesFor(store: Store, m: RoundMeasurement, round: number): ExampleConversation[] {
  const picked = m.test.examples;
  const out: ExampleConversation[] = [];
  for (const [suite, runId] of Object.entries(m.test.runIds)) {
    const recs = store.artifacts.list<ItemRecord>(BENCH_RECORD_KIND, runId).map((r) => r.value);
    const byKey = new Map(recs.map((r) => [r.key, r]));
    const shown = picked
      ? picked.flatMap((k) => byKey.get(k) ?? [])
      : /demo-(harmful|jailbreak)/.test(suite)
        ? pickExamples(recs)
        : [];
    for (const r of shown) {
      out.push({
        round,
        title: `${suite.replace(/@v\d+$/, "")}${picked ? ", test split" : ""}: ${r.outcome ? "defect" : "safe"} (${r.probeId})`,
        category: r.category,
        technique: r.variant ?? "direct",
        language: r.language,
        conversation: r.conversation,
        response: r.response,
        label: r.judgement.label,
      });
    }
  }
  return out;
}

/** Every finished round's measurement (dev, test and slices), from the measure step records, round 0 first. */
export function readMeasurements(store: Store, runId: string): RoundMeasurement[] {
  const out: RoundMeasurement[] = [];
  for (let r = 0; ; r++) {
    const m = step<unknown>(store, runId, r, "measure");
    if (!m) break;
    out.push(reviveRoundMeasurement(m, `run ${runId.slice(0, 16)} round ${r} measure step`));
  }
  return out;
}

export function buildRunReport(store: Store, runId: string): RunReport {
  const record = store.runs.get({ hash: runId });
  if (record?.kind !== "cycle") throw new Error(`no cycle run '${runId}' in the store`);
  const gatesCfg = (record.args?.gates ?? {}) as Config["cycle"]["gates"];
  const heldOut = (record.args?.heldOutFamilies ?? []) as string[];
  const all = readMeasurements(store, runId);
  // Decisions from the dev figures alone.
  const decided = decideRounds(
    all.map((x) => x.dev),
    gatesCfg,
  );
  const measurements = all.map((x) => x.test);
  const level = levelOf(measurements);
  const rounds: RoundSummary[] = measurements.map((m, r) => {
    const brk = step<BreakResult>(store, runId, r + 1, "break");
    const asrByTechnique: Record<string, Metric> = {};
    if (brk) {
      const sum: Record<string, { successes: number; n: number }> = {};
      for (const c of brk.campaigns)
        for (const [f, s] of Object.entries(c.asrByFamily)) {
          const t = sum[f] ?? { successes: 0, n: 0 };
          sum[f] = t;
          t.successes += s.successes;
          t.n += s.n;
        }
      for (const [f, s] of Object.entries(sum)) asrByTechnique[f] = asr(s, `ASR ${f}`, level);
    }
    // The jailbreak suite's DR per technique doubles as the heat map's rows for the model itself.
    for (const [t, v] of Object.entries(m.jailbreakByTechnique)) asrByTechnique[`suite:${t}`] = v;
    const rep = step<{ regressions: Regression[] }>(store, runId, r, "regression");
    const slices = all[r].slices;
    return {
      ...m,
      round: r,
      dev: all[r].dev,
      ...(Object.keys(slices.dev).length || Object.keys(slices.test).length ? { slices } : {}),
      asrByTechnique,
      regressions: rep?.regressions ?? [],
      gates: decided.gates[r],
    };
  });
  const rc = decided.releaseCandidate;
  if (rc >= 0) rounds[rc].releaseCandidate = true;
  const notes = [
    `Held-out technique families (never curated, only measured): ${heldOut.length ? heldOut.join(", ") : "none"}.`,
    "Round 0 is the base model before any fix; each later round is the model after that round's SFT and DPO.",
    "Figures are the test split's unless marked dev; the gates, the stopping round and the release candidate were " +
      "decided on the dev split only (the test split is never read by code that decides).",
  ];
  if (rc >= 0) notes.push(`Release candidate: round ${rounds[rc].round} (${rounds[rc].model}).`);
  return {
    runId,
    createdAt: record.startedAt,
    target: all[0]?.dev.model ?? "?",
    confidence: level,
    rounds,
    examples: all.flatMap((m, r) => examplesFor(store, m, r)),
    notes,
  };
}

export async function writeRunReport(store: Store, runId: string, dir: string): Promise<{ md: string; html: string }> {
  return writeReport(path.resolve(dir), buildRunReport(store, runId));
}
