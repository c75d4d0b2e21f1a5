import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../config/load.ts";
import { DEFAULT_ANSWER_RESERVE } from "../../redteam/campaign/context.ts";
import { CliError } from "../errors.ts";
import { judgeFor, type RedteamOptions, redteamNumbers } from "./redteam.action.ts";

const opts = (judge?: string) => ({ judge, persona: "low_skilled", seed: "0", progress: false }) as RedteamOptions;

describe("breakfix redteam: the default success criterion follows the judge registry", () => {
  it("refusal-only judges (patterns, learned, GCG substrings and their ensembles) make success 'not refused'", () => {
    for (const j of ["refusal-patterns", "refusal-learned", "gcg-substring", "cascade(refusal-patterns,gcg-substring)"])
      expect(judgeFor(opts(j), undefined, undefined).refusalOnly, j).toBe(true);
  });

  it("a harm judge, or a seed set's own oracle, keeps success 'judged harmful'", () => {
    const judgeModel = { id: "judge-model" } as never; // never called: only the choice of criterion is tested
    expect(judgeFor(opts("harm-severity"), undefined, judgeModel).refusalOnly).toBe(false);
    const set = { name: "oracle", judge: () => ({ id: "oracle@1", judge: async () => ({}) as never }) };
    expect(judgeFor(opts(), set as never, undefined).refusalOnly).toBe(false);
  });
});

describe("breakfix redteam: numeric flags", () => {
  const cfg = defaultConfig();
  const base = { persona: "low_skilled", seed: "0", progress: false } as RedteamOptions;

  it("are all read at once, with their defaults (the target's concurrency, the answer reserve, 50 GCG steps)", () => {
    expect(redteamNumbers(base, cfg)).toEqual({
      seed: 0,
      budget: undefined,
      limitSeeds: undefined,
      concurrency: cfg.target.concurrency,
      targetContext: undefined,
      answerReserve: DEFAULT_ANSWER_RESERVE,
      gcgSteps: 50,
    });
    const flags = { budget: "7", limitSeeds: "3", concurrency: "2", targetContext: "512", answerReserve: "9" };
    expect(redteamNumbers({ ...base, ...flags, seed: "4", gcgSteps: "5" }, cfg)).toEqual({
      seed: 4,
      budget: 7,
      limitSeeds: 3,
      concurrency: 2,
      targetContext: 512,
      answerReserve: 9,
      gcgSteps: 5,
    });
  });

  it("a bad value is a usage error naming its flag, whatever the persona (GCG's steps were read only when it ran)", () => {
    for (const [key, flag, value, want] of [
      ["gcgSteps", "--gcg-steps", "1.5", "an integer >= 1"],
      ["seed", "--seed", "-1", "an integer >= 0"],
      ["budget", "--budget", "0", "an integer >= 1"],
      ["limitSeeds", "--limit-seeds", "x", "an integer >= 1"],
      ["concurrency", "--concurrency", "0", "an integer >= 1"],
      ["targetContext", "--target-context", "2.5", "an integer >= 1"],
      ["answerReserve", "--answer-reserve", "", "an integer >= 1"],
    ] as const) {
      const run = () => redteamNumbers({ ...base, [key]: value }, cfg);
      expect(run, flag).toThrow(CliError);
      expect(run, flag).toThrow(`${flag}: expected ${want}, got "${value}"`);
    }
  });
});
