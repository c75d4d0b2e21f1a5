/**
 * The learning-rate schedule is transformers' (optimization.py, as TRL's Trainer builds it for the trl backend's
 * lr_scheduler_type "cosine_with_min_lr"; with minLrRatio 0 it is get_cosine_schedule_with_warmup): step counted from
 * 0 before the first optimizer step, warmup lr * step / max(1, W) (the first step at 0, not lr / W), then
 * lr * max(0, f (1 - m) + m) with f = 0.5 (1 + cos(pi * 0.5 * 2 * progress)), progress = (step - W) / max(1, N - W);
 * W = ceil(N * warmup ratio) (TrainingArguments.get_warmup_steps for a warmup_steps < 1). Checked step by step
 * against those formulas, transcribed below, and hand values.
 */
import { describe, expect, it } from "vitest";
import { learningRate, warmupStepsFor } from "./schedule.ts";

// transformers optimization.py _get_cosine_schedule_with_warmup_lr_lambda(current_step, num_warmup_steps,
// num_training_steps, num_cycles = 0.5, min_lr_rate), times the base lr as LambdaLR does (base_lr * lambda)
function hfCosine(step: number, W: number, N: number, minLrRate: number): number {
  if (step < W) return step / Math.max(1, W);
  const progress = (step - W) / Math.max(1, N - W);
  let factor = 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress));
  factor = factor * (1 - minLrRate) + minLrRate;
  return Math.max(0, factor);
}

describe("warmup + cosine schedule = transformers'", () => {
  it("warms up from 0: lr * step / W", () => {
    const cfg = { lr: 1e-3, warmupSteps: 10, totalSteps: 110, minLrRatio: 0.1 };
    expect(learningRate(0, cfg)).toBe(0);
    expect(learningRate(1, cfg)).toBeCloseTo(1e-4, 15);
    expect(learningRate(5, cfg)).toBeCloseTo(5e-4, 15);
    expect(learningRate(9, cfg)).toBeCloseTo(9e-4, 15);
    expect(learningRate(10, cfg)).toBe(1e-3);
    expect(learningRate(60, cfg)).toBeCloseTo(1e-4 + 0.5 * 9e-4, 15);
  });

  for (const [W, N, m] of [
    [10, 110, 0.1],
    [3, 40, 0],
    [0, 25, 0.1],
    [1, 7, 0.05],
    [5, 5, 0.1],
  ] as const)
    it(`every step equals transformers' lambda x lr (W ${W}, N ${N}, min_lr_rate ${m}), the decay included`, () => {
      const lr = 2e-4;
      for (let step = 0; step <= N; step++)
        expect(learningRate(step, { lr, warmupSteps: W, totalSteps: N, minLrRatio: m }), `step ${step}`).toBe(
          lr * hfCosine(step, W, N, m),
        );
    });

  it("warmup steps: ceil(N * ratio), as TrainingArguments.get_warmup_steps for a ratio", () => {
    expect(warmupStepsFor(0.05, 7)).toBe(1); // 0.35: round gave 0
    expect(warmupStepsFor(0.05, 100)).toBe(5);
    expect(warmupStepsFor(0.03, 5142)).toBe(155); // 154.26
    expect(warmupStepsFor(0, 100)).toBe(0);
  });

  it("legacy (the world build's): round(N ratio) warmup steps, as before", () => {
    expect(warmupStepsFor(0.05, 7, true)).toBe(0);
    expect(warmupStepsFor(0.03, 5142, true)).toBe(154);
  });
});
