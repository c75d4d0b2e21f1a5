import { describe, expect, it } from "vitest";
import { RefExecutor } from "./executor-ref.ts";
import { gradCheck } from "./gradcheck.ts";
import { initWeights, type LlamaConfig } from "./llama.ts";
import { LlamaRunner } from "./model.ts";
import { buildTokenGradient, oneHot, TokenGradient, tokenGradFeeds } from "./token-grad.ts";

const tiny = (over: Partial<LlamaConfig> = {}): LlamaConfig => ({
  vocabSize: 13,
  hiddenSize: 8,
  intermediateSize: 12,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 2,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  maxPositionEmbeddings: 64,
  tieWordEmbeddings: true,
  ...over,
});

// prompt [0..2], suffix slot [3..5], target [6..8]: labels only on the target
const ids = [1, 5, 7, 2, 9, 3, 4, 8, 6];
const labels = [-100, -100, -100, -100, -100, -100, 4, 8, 6];
const slot = { start: 3, length: 3 };

describe("token gradient (GCG): d loss / d one-hot suffix tokens", () => {
  for (const tied of [true, false]) {
    it(`matches central finite differences in continuous one-hot space (float64), tied=${tied}`, () => {
      const cfg = tiny({ tieWordEmbeddings: tied });
      const w = initWeights(cfg, 7, 0.5);
      const g = buildTokenGradient(cfg, ids.length, slot);
      const feeds = { ...Object.fromEntries(w), ...tokenGradFeeds(cfg, ids, slot, labels) };
      const { slot_onehot: onehot, ...rest } = feeds;
      // at the one-hot point, and at a soft point (a mix of tokens) where the loss is still smooth
      const soft = Float64Array.from(onehot.data, (v, i) => 0.7 * v + 0.3 * (((i * 7919) % 13) / 13));
      for (const point of [Float64Array.from(onehot.data), soft]) {
        const res = gradCheck(g.builder.graph, g.loss.id, { slot_onehot: point }, rest);
        expect(res.checked).toBe(slot.length * cfg.vocabSize);
        expect(res.maxError, JSON.stringify(res.worst)).toBeLessThan(1e-6);
      }
    });
  }

  it("the one-hot path gives the gather path's loss; f32 gradient equals the f64 one; a token swap follows it", async () => {
    const cfg = tiny();
    const w = initWeights(cfg, 11, 0.5);
    const tg = new TokenGradient(cfg, new RefExecutor());
    const { loss, grad } = await tg.run(w, ids, slot, labels);
    const runner = new LlamaRunner(cfg);
    const T = ids.length;
    const ref = await runner.lossAndGrads(w, { B: 1, T, inputIds: ids, attentionMask: new Array(T).fill(1), labels });
    expect(Math.abs(loss - ref.loss)).toBeLessThan(1e-5);
    expect(grad.length).toBe(slot.length * cfg.vocabSize);

    const g64 = buildTokenGradient(cfg, T, slot);
    const ex = new RefExecutor("f64").compile(g64.builder.graph, [g64.grad.id]);
    const [exact] = ex.runSync({ ...Object.fromEntries(w), ...tokenGradFeeds(cfg, ids, slot, labels) });
    let maxDiff = 0;
    for (let i = 0; i < grad.length; i++) maxDiff = Math.max(maxDiff, Math.abs(grad[i] - exact.data[i]));
    expect(maxDiff).toBeLessThan(1e-4);

    // First order: the substitution the gradient ranks best at a position lowers the loss more than the one it ranks
    // worst (the linearisation GCG relies on; a small model at a large init is smooth enough for this to hold).
    const V = cfg.vocabSize;
    const pos = 1;
    const row = Array.from(grad.slice(pos * V, (pos + 1) * V));
    const best = row.indexOf(Math.min(...row));
    const worst = row.indexOf(Math.max(...row));
    const lossWith = async (tok: number) => {
      const c = [...ids];
      c[slot.start + pos] = tok;
      return (await tg.run(w, c, slot, labels)).loss;
    };
    expect(await lossWith(best)).toBeLessThan(await lossWith(worst));
    expect(oneHot([2], 4).data).toEqual(Float32Array.of(0, 0, 1, 0));
    await tg.dispose();
  });

  it("refuses a slot outside the sequence", () => {
    expect(() => buildTokenGradient(tiny(), 5, { start: 3, length: 3 })).toThrow(/does not fit a sequence of 5/);
  });
});
