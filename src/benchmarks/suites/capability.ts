/**
 * Capability retention: exact-match accuracy on tasks with known answers (the demo world's capability tasks or a
 * user file). A probe's accepted answer is `meta.answer`, or a JSON array of alternatives in `meta.answers`.
 */
import type { Probe } from "../../domain/types.ts";
import type { Judge } from "../../judges/types.ts";
import { exactMatch, groupRecords, normaliseAnswer, rateMetric } from "../metrics.ts";
import { singleTurnExecute } from "../runner.ts";
import type { ItemRecord, MetricOptions, Suite, SuiteMetric } from "../types.ts";
import { judgeTranscript, loadProbes, type ProbeSource, plainItems } from "./common.ts";

/** The accepted answers of a capability probe; throws naming the probe when it has none. */
export function answersOf(p: Probe): string[] {
  const m = p.meta ?? {};
  if (typeof m.answers === "string") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(m.answers);
    } catch {
      throw new Error(`probe ${p.id}: meta.answers is not a JSON array of strings`);
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((x) => typeof x === "string")) {
      throw new Error(`probe ${p.id}: meta.answers must be a non-empty JSON array of strings`);
    }
    return parsed as string[];
  }
  if (m.answer !== undefined) return [String(m.answer)];
  throw new Error(`probe ${p.id}: a capability task needs meta.answer (or meta.answers)`);
}

/** Id of the exact-match grader (bump when normaliseAnswer changes). */
export const EXACT_MATCH_ID = "exact-match@1";

export interface CapabilitySuiteOptions {
  name: string;
  version?: number;
  description?: string;
  probes: ProbeSource;
  systemPrompt?: string;
  /** Breakdown by the task family (probe.sourceLabel), default true. */
  byTask?: boolean;
  /**
   * Grade with this judge instead of exact match (e.g. the demo world's oracle, which reads its own answer format):
   * correct = an ok judgement labelled "helpful" or "correct". */
  judge?: Judge;
}

export function createCapabilitySuite(o: CapabilitySuiteOptions): Suite {
  return {
    name: o.name,
    version: o.version ?? 1,
    description: o.description ?? `capability retention (exact match) on ${o.name}`,
    judgeId: o.judge?.id ?? EXACT_MATCH_ID,
    outcomeMeaning: "correct",
    async items() {
      const probes = await loadProbes(o.name, o.probes);
      for (const p of probes) answersOf(p); // fail early, naming the probe
      return plainItems(o.name, probes, o.systemPrompt);
    },
    execute: singleTurnExecute,
    facts(item) {
      return { answers: JSON.stringify(answersOf(item.probe)), task: item.probe.sourceLabel ?? "(none)" };
    },
    async grade(item, t) {
      if (o.judge) {
        const judgement = await judgeTranscript(o.judge, item, t);
        const outcome =
          judgement.status === "ok" ? judgement.label === "helpful" || judgement.label === "correct" : null;
        return { judgement, outcome };
      }
      const answers = answersOf(item.probe);
      const ok = exactMatch(t.response, answers);
      return {
        judgement: {
          judgeId: EXACT_MATCH_ID,
          status: "ok",
          label: ok ? "correct" : "incorrect",
          score: ok ? 1 : 0,
          rationale: ok ? undefined : `expected ${JSON.stringify(answers.map(normaliseAnswer))}`,
        },
        outcome: ok,
      };
    },
    metrics(records: readonly ItemRecord[], mo: MetricOptions = {}): SuiteMetric[] {
      const level = mo.level;
      const basis = o.judge ? ("label" as const) : ("exact_match" as const);
      // An ungradable answer (judge failure) is left out of the denominator, never counted as right or wrong.
      const graded = records.filter((r) => r.outcome !== null);
      const acc = (rs: readonly ItemRecord[]) => rs.filter((r) => r.outcome === true).length;
      const n = (rs: readonly ItemRecord[]) => rs.filter((r) => r.outcome !== null).length;
      const out: SuiteMetric[] = [
        rateMetric("accuracy", acc(graded), graded.length, {
          unjudged: records.length - graded.length,
          higherIsBetter: true,
          basis,
          level,
          headline: true,
        }),
      ];
      for (const dim of ["language"] as const) {
        const g = groupRecords(records, dim);
        if (g.size > 1) {
          for (const [v, rs] of g) {
            out.push(
              rateMetric(`accuracy[${dim}=${v}]`, acc(rs), n(rs), {
                higherIsBetter: true,
                basis,
                level,
                group: { by: dim, value: v },
              }),
            );
          }
        }
      }
      if (o.byTask ?? true) {
        const withTask = records.map((r) => ({ ...r, variant: String(r.facts?.task ?? "(none)") }));
        const g = groupRecords(withTask, "variant");
        if (g.size > 1) {
          for (const [v, rs] of g) {
            out.push(
              rateMetric(`accuracy[task=${v}]`, acc(rs), n(rs), {
                higherIsBetter: true,
                basis,
                level,
                group: { by: "variant", value: v },
              }),
            );
          }
        }
      }
      return out;
    },
  };
}
