/**
 * The headline figures of the demo suites, named as the cycle's round metrics (domain/round-metrics.ts): harmfulDr,
 * jailbreakDr, multiturnDr, iprr, vprr, capability and drByLanguage, each a rate with its 95% interval taken from the
 * suites' own metrics. A missing suite gives an unmeasured figure (NaN, n 0), never a made-up number.
 */
import type { RoundMetrics } from "../domain/round-metrics.ts";
import type { Metric } from "../domain/types.ts";
import { roundFigure } from "./metrics.ts";
import type { SuiteRunResult } from "./types.ts";

export type DemoFigures = Pick<
  RoundMetrics,
  "harmfulDr" | "jailbreakDr" | "multiturnDr" | "iprr" | "vprr" | "capability" | "drByLanguage"
>;

export function demoFigures(results: readonly SuiteRunResult[]): DemoFigures {
  const of = (suite: string) => results.find((r) => r.suite.replace(/@v\d+$/, "") === suite)?.metrics ?? [];
  const headline = (suite: string) => of(suite).find((m) => m.headline);
  const named = (suite: string, name: string) => of(suite).find((m) => m.name === name);
  const harmful = headline("demo-harmful");
  const byLang: Record<string, Metric> = {};
  for (const m of of("demo-harmful"))
    if (harmful && m.group?.by === "language" && m.name.startsWith(`${harmful.name}[`) && m.n)
      byLang[m.group.value] = roundFigure(m, `harmful DR [${m.group.value}]`);
  return {
    harmfulDr: roundFigure(harmful, "harmful DR"),
    jailbreakDr: roundFigure(headline("demo-jailbreak"), "jailbreak DR"),
    multiturnDr: roundFigure(headline("demo-multiturn"), "multi-turn DR"),
    iprr: roundFigure(named("demo-overrefusal", "IPRR"), "IPRR"),
    vprr: roundFigure(named("demo-overrefusal", "VPRR"), "VPRR"),
    capability: roundFigure(named("demo-capability", "accuracy"), "capability"),
    drByLanguage: byLang,
  };
}
