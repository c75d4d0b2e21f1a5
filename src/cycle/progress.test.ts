import { describe, expect, it } from "vitest";
import { cycleEtaMs, ROUND_STEPS, throttled } from "./progress.ts";

// A demo round's step durations in seconds (the 3-seed run of session 9, rounded).
const ROUND = { break: 10, curate: 1.5, "train-sft": 150, "train-dpo": 60, measure: 14, regression: 7.5 } as const;
const roundTotal = Object.values(ROUND).reduce((a, b) => a + b, 0);

describe("cycleEtaMs", () => {
  it("is unknown before any step finished", () => {
    expect(cycleEtaMs([], { round: 0, step: "measure" }, 3)).toBeNaN();
  });

  it("estimates each remaining step by the same step's mean, so a finished round predicts the next ones", () => {
    const finished = [
      { step: "measure", seconds: ROUND.measure },
      ...ROUND_STEPS.map((step) => ({ step, seconds: ROUND[step] })),
    ];
    // after round 1 of 3: two whole rounds left (one mean over all 7 finished steps would say 12 x 37 s = 7.3 min, not 8.1)
    expect(cycleEtaMs(finished, { round: 1, step: "regression" }, 3)).toBeCloseTo(2 * roundTotal * 1000, 6);
    // after round 1's SFT (steps seen so far: measure, break, curate, SFT): DPO falls back to the mean of all finished
    const sofar = finished.slice(0, 4);
    const mean = (ROUND.measure + ROUND.break + ROUND.curate + ROUND["train-sft"]) / 4;
    const left =
      mean + ROUND.measure + mean + 2 * (ROUND.break + ROUND.curate + ROUND["train-sft"] + 2 * mean + ROUND.measure);
    expect(cycleEtaMs(sofar, { round: 1, step: "train-sft" }, 3)).toBeCloseTo(left * 1000, 6);
  });

  it("counts every round after round 0's measurement, and nothing after the last round's last step", () => {
    const finished = [{ step: "measure", seconds: 20 }];
    // only measure is known: the 5 other steps of each round take the overall mean (20 s) as well
    expect(cycleEtaMs(finished, { round: 0, step: "measure" }, 2)).toBe(2 * ROUND_STEPS.length * 20_000);
    expect(cycleEtaMs(finished, { round: 2, step: "regression" }, 2)).toBe(0);
  });
});

describe("throttled", () => {
  it("opens on the first and the last update", () => {
    const gate = throttled(60_000);
    expect(gate(false)).toBe(true);
    expect(gate(false)).toBe(false);
    expect(gate(true)).toBe(true);
  });
});
