import { describe, expect, it } from "vitest";
import { judgeFor, type RedteamOptions } from "./redteam.action.ts";

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
