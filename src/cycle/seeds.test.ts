/** Unit tests of the statistics over training seeds (seeds.ts): figures found by walking a round, spread, report. */
import { describe, expect, it } from "vitest";
import { defaultConfig, parseConfig } from "../config/load.ts";
import { contentHash } from "../domain/hash.ts";
import type { Metric } from "../domain/types.ts";
import { runIdentityOf } from "./cycle.ts";
import {
  aggregateFigures,
  aggregateSeeds,
  configForSeed,
  figuresOf,
  renderSeedsHtml,
  renderSeedsMarkdown,
  roundLines,
  type SeedRun,
  spread,
  statText,
  trainingSeeds,
} from "./seeds.ts";

const m = (name: string, value: number, n = 50): Metric => ({ name, value, n, successes: Math.round(value * n) });

/** A round in the shape runs print (dev / test / slices, breakdowns below), with a few figures. */
function round(r: number, dr: number, cap: number, es?: number) {
  const figures = (d: number) => ({
    harmfulDr: m("harmful DR", d),
    capability: m("capability", cap),
    drByLanguage: { en: m("harmful DR [en]", d), ...(es === undefined ? {} : { es: m("harmful DR [es]", es) }) },
    skipped: { demo: 2 },
  });
  return {
    round: r,
    model: `m${r}`,
    dev: figures(dr + 0.01),
    test: figures(dr),
    slices: { dev: {}, test: { "out-of-distribution": figures(dr * 2) } },
  };
}

describe("figures of a round", () => {
  it("are its { name, value } leaves at any depth, named by path; counts, ids and names are not figures", () => {
    const paths = figuresOf(round(1, 0.1, 0.9, 0.2)).map(([p]) => p);
    expect(paths).toEqual([
      "dev.harmfulDr",
      "dev.capability",
      "dev.drByLanguage.en",
      "dev.drByLanguage.es",
      "test.harmfulDr",
      "test.capability",
      "test.drByLanguage.en",
      "test.drByLanguage.es",
      "slices.test.out-of-distribution.harmfulDr",
      "slices.test.out-of-distribution.capability",
      "slices.test.out-of-distribution.drByLanguage.en",
      "slices.test.out-of-distribution.drByLanguage.es",
    ]);
    // An unmeasured figure read back from JSON (value null) is still a figure.
    expect(figuresOf({ vprr: { name: "VPRR", value: null, n: 0 } })).toEqual([
      ["vprr", { name: "VPRR", value: null, n: 0 }],
    ]);
  });
});

describe("spread over seeds", () => {
  it("is mean, sample sd (n - 1), min and max of the measured values", () => {
    const s = spread([0.1, 0.2, 0.6]);
    expect(s.n).toBe(3);
    expect(s.mean).toBeCloseTo(0.3, 12);
    // deviations -0.2, -0.1, 0.3: squares 0.04 + 0.01 + 0.09 = 0.14, / 2 = 0.07
    expect(s.sd).toBeCloseTo(Math.sqrt(0.07), 12);
    expect([s.min, s.max]).toEqual([0.1, 0.6]);
  });

  it("leaves out unmeasured values (NaN, null) and has no sd with one value", () => {
    expect(spread([0.4, Number.NaN, null])).toEqual({ n: 1, mean: 0.4, sd: null, min: 0.4, max: 0.4 });
    expect(spread([null, undefined])).toEqual({ n: 0, mean: null, sd: null, min: null, max: null });
  });

  it("keeps each seed's value in seed order, null where a seed lacks the figure", () => {
    const f = aggregateFigures([round(1, 0.1, 0.9), round(1, 0.3, 0.8, 0.5), undefined]);
    expect(f["test.harmfulDr"].values).toEqual([0.1, 0.3, null]);
    expect(f["test.harmfulDr"].mean).toBeCloseTo(0.2, 12);
    expect(f["test.harmfulDr"].sd).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(f["test.drByLanguage.es"]).toMatchObject({ name: "harmful DR [es]", n: 1, values: [null, 0.5, null] });
  });
});

describe("several seeds' runs", () => {
  const runs: SeedRun[] = [
    {
      seed: 0,
      runId: "a".repeat(64),
      rounds: [round(0, 0.5, 0.9), round(1, 0.2, 0.88), round(2, 0.3, 0.85)],
      releaseCandidate: 1,
    },
    // this chain stopped after round 1 (every gate passed)
    { seed: 1, runId: "b".repeat(64), rounds: [round(0, 0.5, 0.9), round(1, 0.1, 0.89)], releaseCandidate: 1 },
    { seed: 2, runId: "c".repeat(64), rounds: [round(0, 0.5, 0.9), round(1, 0.4, 0.87), round(2, 0.2, 0.86)] },
  ];
  const a = aggregateSeeds(runs);

  it("aggregate every round over the seeds that reached it", () => {
    expect(a.seeds).toEqual([0, 1, 2]);
    expect(a.rounds.map((r) => [r.round, r.seeds])).toEqual([
      [0, 3],
      [1, 3],
      [2, 2],
    ]);
    expect(a.rounds[0].figures["test.harmfulDr"]).toMatchObject({ mean: 0.5, sd: 0, min: 0.5, max: 0.5, n: 3 });
    const r2 = a.rounds[2].figures["test.harmfulDr"];
    expect(r2.values).toEqual([0.3, null, 0.2]);
    expect(r2.mean).toBeCloseTo(0.25, 12);
    const dev = a.rounds[1].figures["dev.harmfulDr"];
    expect(dev.mean).toBeCloseTo((0.21 + 0.11 + 0.41) / 3, 12);
    expect(a.rounds[1].figures["slices.test.out-of-distribution.harmfulDr"].max).toBeCloseTo(0.8, 12);
  });

  it("take each seed's own release candidate (no new choice) and each chain's last round", () => {
    expect(a.releaseCandidates).toEqual([1, 1, null]);
    expect(a.releaseCandidate.seeds).toBe(2);
    expect(a.releaseCandidate.figures["test.harmfulDr"].values).toEqual([0.2, 0.1, null]);
    expect(a.final.seeds).toBe(3);
    expect(a.final.figures["test.harmfulDr"].values).toEqual([0.3, 0.1, 0.2]);
    expect(a.final.figures["test.capability"].mean).toBeCloseTo((0.85 + 0.89 + 0.86) / 3, 12);
  });

  it("print a round line of the test figures and a Markdown table per group, test before dev", () => {
    expect(statText(a.rounds[2].figures["test.harmfulDr"], 3)).toBe("25.0 ± 7.1 [20.0, 30.0] (n 2)");
    expect(statText(undefined)).toBe("n/a");
    const lines = roundLines(a);
    expect(lines[0]).toBe(
      "round 0 (3 seeds) test, % mean ± sd [min, max]: harmful DR 50.0 ± 0.0 [50.0, 50.0] | capability 90.0 ± 0.0 [90.0, 90.0]",
    );
    const md = renderSeedsMarkdown(a);
    const titles = [...md.matchAll(/^## (.+)$/gm)].map((x) => x[1]);
    expect(titles.slice(0, 3)).toEqual(["test", "slices.test.out-of-distribution", "dev"]);
    expect(titles).toContain("test.drByLanguage");
    const testTable = md.split("## test\n")[1].split("\n## ")[0].trim().split("\n");
    expect(testTable[0]).toBe("| figure | round 0 | round 1 | round 2 | release candidate | last round |");
    expect(testTable[2]).toBe(
      "| harmful DR | 50.0 ± 0.0 [50.0, 50.0] | 23.3 ± 15.3 [10.0, 40.0] | 25.0 ± 7.1 [20.0, 30.0] (n 2) | 15.0 ± 7.1 [10.0, 20.0] (n 2) | 20.0 ± 10.0 [10.0, 30.0] |",
    );
    expect(md).toMatch(/\| 2 \| cccccccccccccccc \| 2 \| none \|/);
    const html = renderSeedsHtml(a);
    expect(html).toContain("<td>25.0 ± 7.1 [20.0, 30.0] (n 2)</td>");
    expect(html).not.toMatch(/<script/);
  });

  it("show the answers the deployment's filter blocked only where some were (no table of zeros)", () => {
    const withBlocked = (r: number, share: number) => {
      const x = round(r, 0.2, 0.9);
      return { ...x, test: { ...x.test, blocked: { harmful: m("blocked [harmful]", share) } } };
    };
    const none = aggregateSeeds([{ seed: 0, runId: "e".repeat(64), rounds: [withBlocked(0, 0), withBlocked(1, 0)] }]);
    expect(none.rounds[1].figures["test.blocked.harmful"]).toMatchObject({ mean: 0 });
    expect(renderSeedsMarkdown(none)).not.toMatch(/blocked/);
    const some = aggregateSeeds([{ seed: 0, runId: "f".repeat(64), rounds: [withBlocked(0, 0), withBlocked(1, 0.1)] }]);
    expect(renderSeedsMarkdown(some)).toMatch(/^## test\.blocked\n[\s\S]*\| harmful \| 0\.0 \| 10\.0 \|/m);
  });

  it("escape figure names that come from data (languages, categories, techniques)", () => {
    const evil = { test: { harmfulDr: m("harmful DR", 0.1), drByLanguage: { "<img src=x>|x": m("<b>", 0.2) } } };
    const b = aggregateSeeds([{ seed: 0, runId: "d".repeat(64), rounds: [evil] }]);
    expect(renderSeedsHtml(b)).not.toContain("<img");
    expect(renderSeedsMarkdown(b)).not.toMatch(/<img src=x>\|x \|/);
  });
});

describe("training seeds in the config", () => {
  it("N means training.seed .. training.seed + N - 1; a list is taken as given; default one", () => {
    expect(trainingSeeds(defaultConfig())).toEqual([0]);
    const three = parseConfig("training: {seed: 7}\ncycle: {seeds: 3}\n", "breakfix.yaml", "/w");
    expect(trainingSeeds(three)).toEqual([7, 8, 9]);
    expect(trainingSeeds(parseConfig("cycle: {seeds: [3, 11]}\n", "breakfix.yaml", "/w"))).toEqual([3, 11]);
    expect(() => parseConfig("cycle: {seeds: 0}\n", "breakfix.yaml", "/w")).toThrow(/cycle\.seeds/);
    expect(() => parseConfig("cycle: {seeds: [1, 1]}\n", "breakfix.yaml", "/w")).toThrow(/distinct/);
  });

  it("each seed is its own run (training.seed is in the run identity); how many seeds run is not", () => {
    const one = parseConfig("cycle: {seeds: 1}\n", "breakfix.yaml", "/w");
    const three = parseConfig("cycle: {seeds: 3}\n", "breakfix.yaml", "/w");
    const id = (c: typeof one) => contentHash(runIdentityOf({ ...c, workspace: "/w", dataCache: "/d" }));
    expect(id(configForSeed(three, 0))).toBe(id(one));
    expect(id(configForSeed(three, 1))).not.toBe(id(one));
    expect(configForSeed(three, 1).training.seed).toBe(1);
  });
});
