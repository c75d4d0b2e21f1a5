/**
 * Gradient accumulation: an optimizer step accumulates `gradAccum` batches of one epoch (the epoch's last step what is
 * left), never batches of two epochs and never none; with `gradAccum` 1 the plan is the epochs' batches in order.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { initWeights } from "../nn/llama.ts";
import { example, mapWord, PAD, SIGMA_1, taskModel, words } from "./testing.ts";
import { DEFAULT_TRAIN, epochBatches, stepPlan, train } from "./trainer.ts";

describe("gradient accumulation", () => {
  const lengths = Array.from({ length: 10 }, (_, i) => 3 + (i % 4));

  it("cuts each epoch's batches into steps of gradAccum, the last one partial, never across epochs", () => {
    // 10 rows in batches of 2 = 5 batches an epoch; gradAccum 4 = steps of 4 and 1 batch, 2 steps an epoch
    const opts = { batchSize: 2, gradAccum: 4, seed: 3, epochs: 2 };
    const plan = stepPlan(lengths, opts, 4);
    expect(plan.map((s) => [s.epoch, s.micro.length])).toEqual([
      [0, 4],
      [0, 1],
      [1, 4],
      [1, 1],
    ]);
    for (const epoch of [0, 1]) {
      const steps = plan.filter((s) => s.epoch === epoch).flatMap((s) => s.micro);
      expect(steps).toEqual(epochBatches(lengths, 2, 3, epoch));
    }
    expect(stepPlan(lengths, opts, 3)).toEqual(plan.slice(0, 3));
  });

  it("with gradAccum 1 a step is one batch, the epochs' batches in order", () => {
    const opts = { batchSize: 3, gradAccum: 1, seed: 0, epochs: 3 };
    const flat = [0, 1, 2].flatMap((e) => epochBatches(lengths, 3, 0, e));
    expect(stepPlan(lengths, opts, 12)).toEqual(flat.map((b, i) => ({ epoch: Math.floor(i / 4), micro: [b] })));
    expect(stepPlan(lengths, opts, 5).map((s) => s.micro[0])).toEqual(flat.slice(0, 5));
  });

  it("trains every step on real batches: finite losses, each epoch's tokens counted once", async () => {
    const cfg = taskModel();
    const ws = words(10, 3);
    const rows = ws.map((x) => example(x, mapWord(x, SIGMA_1)));
    const res = await train(
      cfg,
      initWeights(cfg, 1),
      { train: rows, eval: [] },
      {
        ...DEFAULT_TRAIN,
        objective: { kind: "sft" },
        lora: undefined,
        lr: 1e-3,
        batchSize: 2,
        gradAccum: 4,
        epochs: 2,
      },
      mkdtempSync(join(tmpdir(), "bf-accum-")),
      PAD,
    );
    expect(res.steps).toBe(4);
    expect(res.metrics.map((m) => m.epoch)).toEqual([0, 0, 1, 1]);
    for (const m of res.metrics) expect(Number.isFinite(m.loss) && m.tokens > 0).toBe(true);
    const perEpoch = (e: number) => res.metrics.filter((m) => m.epoch === e).reduce((a, m) => a + m.tokens, 0);
    const allTokens = rows.reduce((a, r) => a + r.ids.length, 0);
    expect(perEpoch(0)).toBe(allTokens);
    expect(perEpoch(1)).toBe(allTokens);
  });
});

describe("gradient accumulation normalisation", () => {
  // Two SFT rows whose completions differ in length (1 and 8 counted tokens, the newline included): one batch of both,
  // or two micro-batches of one row accumulated, is the same optimizer step. The loss is the mean over every counted
  // token of the step (transformers' num_items_in_batch, what TRL's SFTTrainer trains), so both give the same update;
  // the mean of the micro-batches' own means weighed the 1-token row's token 8x as much as each token of the other.
  const rows = [example("abcd", ""), example("efgh", "qwertyu")];
  const trainOnce = async (batchSize: number, gradAccum: number) => {
    const cfg = taskModel();
    const res = await train(
      cfg,
      initWeights(cfg, 1),
      { train: rows, eval: [] },
      {
        ...DEFAULT_TRAIN,
        objective: { kind: "sft" },
        lora: undefined,
        lr: 1e-2,
        warmupRatio: 0,
        maxGradNorm: 1e9,
        batchSize,
        gradAccum,
        epochs: 1,
      },
      mkdtempSync(join(tmpdir(), "bf-accum-norm-")),
      PAD,
    );
    expect(res.steps).toBe(1);
    return { m: res.metrics[0], w: res.weights.get("model.layers.0.mlp.down_proj.weight")!.data };
  };

  it("averages per token over the whole step: 2 micro-batches of 1 row = 1 batch of 2 rows", async () => {
    const one = await trainOnce(2, 1);
    const acc = await trainOnce(1, 2);
    expect(rows.map((r) => r.labels.filter((l) => l !== -100).length)).toEqual([1, 8]);
    expect(acc.m.loss).toBeCloseTo(one.m.loss, 5);
    expect(acc.m.grad_norm / one.m.grad_norm).toBeCloseTo(1, 4);
    let maxDiff = 0;
    for (let i = 0; i < one.w.length; i++) maxDiff = Math.max(maxDiff, Math.abs(one.w[i] - acc.w[i]));
    expect(maxDiff).toBeLessThan(1e-5);
  });
});
