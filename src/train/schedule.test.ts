import { describe, expect, it } from "vitest";
import { learningRate } from "./schedule.ts";

// the legacy schedule (warmup from lr / W), which only the world build uses; transformers' is in
// schedule.transformers.test.ts
describe("legacy warmup + cosine schedule", () => {
  const cfg = { lr: 1e-3, warmupSteps: 10, totalSteps: 110, minLrRatio: 0.1, legacy: true };
  it("warms up linearly to the peak", () => {
    expect(learningRate(0, cfg)).toBeCloseTo(1e-4, 12);
    expect(learningRate(9, cfg)).toBeCloseTo(1e-3, 12);
  });
  it("decays by a cosine to the floor", () => {
    expect(learningRate(10, cfg)).toBeCloseTo(1e-3, 12);
    expect(learningRate(60, cfg)).toBeCloseTo(1e-4 + 0.5 * 9e-4, 12);
    expect(learningRate(110, cfg)).toBeCloseTo(1e-4, 12);
    expect(learningRate(500, cfg)).toBeCloseTo(1e-4, 12);
    for (let s = 11; s < 110; s++) expect(learningRate(s, cfg)).toBeLessThan(learningRate(s - 1, cfg));
  });
});
