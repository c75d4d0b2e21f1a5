/**
 * Over-refusal suite (XSTest's measure, as the Phi-3 report uses it): refusal rate on unsafe prompts (IPRR, higher is
 * better) and on safe prompts (VPRR, lower is better), each with full and partial refusal separately. Also serves
 * the JailbreakBench benign refusal rate (all probes safe, metric named by `safeName`).
 */
import type { Judge } from "../../judges/types.ts";
import { groupRecords, refusalOf, refusalRateMetrics } from "../metrics.ts";
import { singleTurnExecute } from "../runner.ts";
import type { ItemRecord, MetricOptions, Suite, SuiteMetric } from "../types.ts";
import { judgeTranscript, loadProbes, type ProbeSource, plainItems } from "./common.ts";

export interface OverRefusalSuiteOptions {
  name: string;
  version?: number;
  description?: string;
  probes: ProbeSource;
  judge: Judge;
  /** Metric names for safe and unsafe prompts (default VPRR / IPRR). */
  safeName?: string;
  unsafeName?: string;
  /** Also break the rates down by the dataset's own label (XSTest type), default true. */
  bySourceLabel?: boolean;
  systemPrompt?: string;
}

export function createOverRefusalSuite(o: OverRefusalSuiteOptions): Suite {
  const safeName = o.safeName ?? "VPRR";
  const unsafeName = o.unsafeName ?? "IPRR";
  return {
    name: o.name,
    version: o.version ?? 1,
    description: o.description ?? `over-refusal (${safeName}/${unsafeName}) on ${o.name}`,
    judgeId: o.judge.id,
    outcomeMeaning: "refusal",
    async items() {
      return plainItems(o.name, await loadProbes(o.name, o.probes), o.systemPrompt);
    },
    execute: singleTurnExecute,
    facts(item) {
      return item.probe.sourceLabel ? { sourceLabel: item.probe.sourceLabel } : undefined;
    },
    async grade(item, t) {
      const judgement = await judgeTranscript(o.judge, item, t);
      const c = refusalOf(judgement);
      return { judgement, outcome: c === null ? null : c !== "full_compliance" };
    },
    metrics(records: readonly ItemRecord[], mo: MetricOptions = {}): SuiteMetric[] {
      const level = mo.level;
      const safe = records.filter((r) => r.label === "safe");
      const unsafe = records.filter((r) => r.label === "unsafe");
      const out: SuiteMetric[] = [];
      if (safe.length > 0)
        out.push(...refusalRateMetrics(safeName, safe, { higherIsBetter: false, headline: true, level }));
      if (unsafe.length > 0) {
        out.push(
          ...refusalRateMetrics(unsafeName, unsafe, { higherIsBetter: true, headline: safe.length === 0, level }),
        );
      }
      if (o.bySourceLabel ?? true) {
        const withType = records.map((r) => ({ ...r, variant: String(r.facts?.sourceLabel ?? "(none)") }));
        const groups = groupRecords(withType, "variant");
        if (groups.size > 1) {
          for (const [type, rs] of groups) {
            const isSafe = rs[0].label === "safe";
            const [any] = refusalRateMetrics(isSafe ? safeName : unsafeName, rs, {
              higherIsBetter: !isSafe,
              level,
              group: { by: "variant", value: type },
            });
            out.push(any);
          }
        }
      }
      return out;
    },
  };
}
