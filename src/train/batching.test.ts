/**
 * What forward-only passes (DPO reference log-probs, evaluation) rely on when they batch by length: a row's summed
 * log-prob is the same, bit for bit, whatever its batch partners and padding, on the real ONNX Runtime engine.
 */
import { describe, expect, it } from "vitest";
import { initWeights } from "../nn/llama.ts";
import { OnnxExecutor } from "../nn/onnx/executor.ts";
import { ObjectiveRunner, padBatch } from "./objective.ts";
import { example, mapWord, PAD, SIGMA_1, taskModel } from "./testing.ts";
import { lengthSortedBatches } from "./trainer.ts";

describe("length-sorted forward batches", () => {
  it("cut the examples sorted by length (ties in data order) into batches, each example once", () => {
    const exs = [7, 3, 9, 3, 1, 7, 2].map((n, i) => example("abc".repeat(n).slice(0, n + (i % 2)), "x"));
    const batches = lengthSortedBatches(exs, 3);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
    const flat = batches.flat();
    expect(new Set(flat).size).toBe(exs.length);
    const lens = flat.map((e) => e.ids.length);
    expect(lens).toEqual([...lens].sort((a, b) => a - b));
    // ties keep data order
    for (let i = 1; i < flat.length; i++)
      if (lens[i] === lens[i - 1]) expect(exs.indexOf(flat[i])).toBeGreaterThan(exs.indexOf(flat[i - 1]));
  });

  it("a row's log-prob does not depend on its partners or its padding (exact, ONNX Runtime)", async () => {
    const cfg = taskModel();
    const weights = initWeights(cfg, 3);
    const runner = new ObjectiveRunner(cfg, { kind: "sft" }, () => true, undefined, new OnnxExecutor());
    try {
      const row = example("abcd", mapWord("abcd", SIGMA_1));
      const short = example("ab", mapWord("ab", SIGMA_1));
      const long = example("abcdefghij".repeat(2), mapWord("abcdefghij".repeat(2), SIGMA_1));
      const a = await runner.sequenceLogps(weights, padBatch([row, short], 16, PAD));
      const b = await runner.sequenceLogps(weights, padBatch([long, short, row], 64, PAD));
      const c = await runner.sequenceLogps(weights, padBatch([row], 48, PAD));
      expect(Number.isFinite(a[0]) && a[0] < 0).toBe(true);
      expect(b[2]).toBe(a[0]);
      expect(c[0]).toBe(a[0]);
      expect(b[1]).toBe(a[1]);
    } finally {
      await runner.dispose();
    }
  });
});
