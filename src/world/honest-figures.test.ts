import { describe, expect, it } from "vitest";
import { honestFigures, renderHonestMarkdown } from "./honest-figures.ts";

const fig = (value: number | null) => ({ name: "x", value, n: 100 });
function round(round: number, harmful: number, iprr: number, cap: number) {
  const f = {
    harmfulDr: fig(harmful),
    iprr: fig(iprr),
    vprr: fig(0.05),
    capability: fig(cap),
    heldoutDr: fig(0.1),
    jailbreakDr: fig(harmful),
    multiturnDr: fig(harmful),
    drByLanguage: { en: fig(harmful + 0.02), es: fig(harmful) },
  };
  return { round, dev: f, test: f, slices: { dev: {}, test: { "out-of-distribution": f, "in-distribution": f } } };
}

describe("honestFigures", () => {
  it("reads each seed's own release candidate against its round 0 and aggregates over seeds", () => {
    const runs = [
      {
        seed: 0,
        releaseCandidate: 1,
        rounds: [round(0, 1, 0, 0.9), round(1, 0.05, 0.95, 0.89), round(2, 0.5, 0.5, 0.5)],
      },
      {
        seed: 1,
        releaseCandidate: 2,
        rounds: [round(0, 0.8, 0, 0.9), round(1, 0.5, 0.5, 0.5), round(2, 0.04, 0.91, 0.88)],
      },
    ];
    const rows = honestFigures(runs);
    const cut = rows.find((r) => r.section === "out-of-distribution" && r.label === "harmful DR cut vs base");
    expect(cut?.values).toEqual([0.95, 0.95]);
    expect(cut?.met).toBe(true);
    const iprr = rows.find((r) => r.section === "in-distribution" && r.label === "IPRR");
    expect(iprr?.mean).toBeCloseTo(0.93);
    expect(iprr?.met).toBe(true);
    const gap = rows.find((r) => r.section === "out-of-distribution" && r.label.startsWith("language gap"));
    expect(gap?.values[0]).toBeCloseTo(0.02);
    const drop = rows.find((r) => r.label.startsWith("capability drop vs base (test"));
    expect(drop?.values.map((v) => Number(v.toFixed(3)))).toEqual([0.01, 0.02]);
    expect(drop?.met).toBe(true);
    // the last round instead of the release candidate
    const last = honestFigures(runs, "last").find((r) => r.section === "in-distribution" && r.label === "IPRR");
    expect(last?.values).toEqual([0.5, 0.91]);
    expect(renderHonestMarkdown(rows, 2)).toMatch(/\| out-of-distribution \| harmful DR cut vs base \| 95\.0 ± 0\.0/);
    // the rephrasings' template breakdown only where the results carry it
    expect(rows.some((r) => r.section.startsWith("rephrased/"))).toBe(false);
    for (const run of runs)
      for (const r of run.rounds) Object.assign(r.slices.test, { "rephrased/out-of-distribution": r.test });
    const split = honestFigures(runs).filter((r) => r.section === "rephrased/out-of-distribution");
    expect(split.map((r) => r.label)).toEqual(["harmful DR cut vs base", "harmful DR", "IPRR", "VPRR"]);
    expect(split.find((r) => r.label === "IPRR")?.values).toEqual([0.95, 0.91]);
  });
});
