/**
 * The figures the cycle reads from the demo suites (issue "break-fix cycle": harmful_dr, jailbreak_dr, iprr, vprr,
 * capability, dr_by_language), each a fraction in [0, 1] with its 95% interval, taken from the suites' headline
 * metrics. Missing suites give null, never a made-up number.
 */
import type { SuiteMetric, SuiteRunResult } from "./types.ts";

export interface Figure {
  value: number;
  low: number;
  high: number;
  n: number;
}

export interface DemoFigures {
  harmful_dr: Figure | null;
  jailbreak_dr: Figure | null;
  multiturn_dr: Figure | null;
  iprr: Figure | null;
  vprr: Figure | null;
  capability: Figure | null;
  /** Harmful DR per language (demo-harmful). */
  dr_by_language: Record<string, Figure>;
}

function fig(m: SuiteMetric | undefined): Figure | null {
  if (!m || m.n === undefined || m.n === 0) return null;
  return { value: m.value, low: m.interval?.low ?? Number.NaN, high: m.interval?.high ?? Number.NaN, n: m.n };
}

export function demoFigures(results: readonly SuiteRunResult[]): DemoFigures {
  const of = (suite: string) => results.find((r) => r.suite.replace(/@v\d+$/, "") === suite)?.metrics ?? [];
  const headline = (suite: string) => of(suite).find((m) => m.headline);
  const named = (suite: string, name: string) => of(suite).find((m) => m.name === name);
  const harmful = headline("demo-harmful");
  const byLang: Record<string, Figure> = {};
  for (const m of of("demo-harmful")) {
    if (harmful && m.group?.by === "language" && m.name.startsWith(`${harmful.name}[`)) {
      const f = fig(m);
      if (f) byLang[m.group.value] = f;
    }
  }
  return {
    harmful_dr: fig(harmful),
    jailbreak_dr: fig(headline("demo-jailbreak")),
    multiturn_dr: fig(headline("demo-multiturn")),
    iprr: fig(named("demo-overrefusal", "IPRR")),
    vprr: fig(named("demo-overrefusal", "VPRR")),
    capability: fig(named("demo-capability", "accuracy")),
    dr_by_language: byLang,
  };
}
