import { describe, expect, it } from "vitest";
import { SplitMix32 } from "../domain/random.ts";
import { type GenerateOptions, generate, KvDecoder, sampleToken } from "./generate.ts";
import { initWeights, type LlamaConfig } from "./llama.ts";
import { LlamaRunner } from "./model.ts";
import { tinyLlama } from "./testing.ts";

const cfg: LlamaConfig = tinyLlama({ vocabSize: 53, intermediateSize: 48, maxPositionEmbeddings: 256, eosTokenId: 2 });
// std 0.25: peaked next-token distributions, so greedy paths are non-trivial
const weights = initWeights(cfg, 77, 0.25);
const prompts = [[5, 9, 13, 4, 7], [11], [3, 30, 31]];
const greedy: GenerateOptions = { maxTokens: 64, stopTokens: [] };

/** the obvious implementation: full sort, top-k, renormalize, nucleus, inverse CDF */
function naiveSample(logits: Float32Array, temp: number, topK: number, topP: number, rng: SplitMix32): number {
  const V = logits.length;
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  const kept = order.slice(0, topK > 0 ? topK : V);
  const mx = logits[kept[0]];
  const probs = kept.map((i) => Math.exp((logits[i] - mx) / temp));
  const z = probs.reduce((a, b) => a + b, 0);
  let n = kept.length;
  let cum = 0;
  for (let j = 0; j < kept.length; j++) {
    cum += probs[j];
    if (cum >= topP * z) {
      n = j + 1;
      break;
    }
  }
  const total = probs.slice(0, n).reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  for (let j = 0; j < n; j++) {
    u -= probs[j];
    if (u <= 0) return kept[j];
  }
  return kept[n - 1];
}

describe("generation", () => {
  it("greedy with the KV cache equals greedy recomputed without a cache for 64 tokens (3 padded prompts)", () => {
    const cached = generate(cfg, weights, prompts, greedy);
    const recomputed = generate(cfg, weights, prompts, { ...greedy, noCache: true });
    for (const g of cached) expect(g.tokens.length).toBe(64);
    expect(cached.map((g) => g.tokens)).toEqual(recomputed.map((g) => g.tokens));
    // not a degenerate constant sequence
    expect(new Set(cached[0].tokens).size).toBeGreaterThan(3);
  });

  it("batched (left-padded) generation equals one prompt at a time", () => {
    const batched = generate(cfg, weights, prompts, { ...greedy, maxTokens: 20 });
    prompts.forEach((p, i) => {
      expect(generate(cfg, weights, [p], { ...greedy, maxTokens: 20 })[0].tokens).toEqual(batched[i].tokens);
    });
  });

  it("the KV-cache path agrees with the autodiff graph: logits < 1e-4 and the same 64 greedy tokens", async () => {
    const runner = new LlamaRunner(cfg);
    const seq = [...prompts[0]];
    const dec = new KvDecoder(cfg, weights, 1, 80);
    let logits = dec.step(seq, seq.length);
    for (let s = 0; s < 64; s++) {
      const g = await runner.logits(weights, 1, seq.length, seq);
      const last = g.data.subarray((seq.length - 1) * cfg.vocabSize, seq.length * cfg.vocabSize);
      let diff = 0;
      for (let i = 0; i < cfg.vocabSize; i++) diff = Math.max(diff, Math.abs(last[i] - logits[i]));
      expect(diff).toBeLessThan(1e-4);
      const tok = sampleToken(logits, { maxTokens: 1 }, new SplitMix32(0));
      let best = 0;
      for (let i = 1; i < cfg.vocabSize; i++) if (last[i] > last[best]) best = i;
      expect(tok).toBe(best);
      seq.push(tok);
      logits = dec.step([tok], 1);
    }
  });

  it("fast sampling equals the obvious full-sort implementation draw for draw (V = 5000, several settings)", () => {
    const r = new SplitMix32(3);
    const logits = Float32Array.from({ length: 5000 }, () => 3 * r.normal());
    for (const [temp, topK, topP] of [
      [1, 0, 0.9],
      [0.7, 50, 1],
      [1.3, 200, 0.5],
      [1, 0, 0.999],
    ]) {
      const a = new SplitMix32(17);
      const b = new SplitMix32(17);
      for (let i = 0; i < 300; i++) {
        const fast = sampleToken(logits, { maxTokens: 1, temperature: temp, topK, topP }, a);
        expect(fast).toBe(naiveSample(logits, temp, topK, topP, b));
      }
    }
  });

  it("stops on stop tokens (default eos) and stop strings, and reports the reason", () => {
    const free = generate(cfg, weights, [prompts[0]], { maxTokens: 12, stopTokens: [] })[0];
    const stopTok = free.tokens[5];
    const first = free.tokens.indexOf(stopTok);
    const s = generate(cfg, weights, [prompts[0]], { maxTokens: 12, stopTokens: [stopTok] })[0];
    expect(s.finishReason).toBe("stop");
    expect(s.tokens).toEqual(free.tokens.slice(0, first));
    const decode = (ids: readonly number[]) => ids.map((i) => `<${i}>`).join("");
    const str = generate(cfg, weights, [prompts[0]], {
      maxTokens: 12,
      stopTokens: [],
      stopStrings: [`<${stopTok}>`],
      decode,
    })[0];
    expect(str.finishReason).toBe("stop");
    expect(str.text).toBe(decode(free.tokens.slice(0, first)));
    expect(free.finishReason).toBe("length");
    expect(free.tokens.length).toBe(12);
    expect(() => generate(cfg, weights, [[1]], { maxTokens: 2, stopStrings: ["x"] })).toThrow(/decode/);
  });

  it("sampling: seeded and reproducible; top-k 1 and tiny top-p are greedy; frequencies follow softmax(logits / T)", () => {
    const opts = { maxTokens: 16, temperature: 1.0, stopTokens: [], seed: 5 };
    const a = generate(cfg, weights, prompts, opts);
    const b = generate(cfg, weights, prompts, opts);
    expect(a.map((g) => g.tokens)).toEqual(b.map((g) => g.tokens));
    const c = generate(cfg, weights, prompts, { ...opts, seed: 6 });
    expect(c.map((g) => g.tokens)).not.toEqual(a.map((g) => g.tokens));
    const g0 = generate(cfg, weights, prompts, { ...greedy, maxTokens: 16 }).map((g) => g.tokens);
    expect(generate(cfg, weights, prompts, { ...opts, topK: 1 }).map((g) => g.tokens)).toEqual(g0);
    expect(generate(cfg, weights, prompts, { ...opts, topP: 1e-6 }).map((g) => g.tokens)).toEqual(g0);

    const logits = Float32Array.from([2, 1, 0, -1, 0.5]);
    const temp = 0.7;
    const rng = new SplitMix32(1);
    const n = 40000;
    const counts = new Array(5).fill(0);
    for (let i = 0; i < n; i++) counts[sampleToken(logits, { maxTokens: 1, temperature: temp }, rng)]++;
    const z = Array.from(logits).reduce((s, l) => s + Math.exp(l / temp), 0);
    for (let i = 0; i < 5; i++) expect(Math.abs(counts[i] / n - Math.exp(logits[i] / temp) / z)).toBeLessThan(0.01);
    // top-k 2 only ever returns the two best; top-p 0.8 drops the tail
    for (let i = 0; i < 2000; i++)
      expect([0, 1]).toContain(sampleToken(logits, { maxTokens: 1, temperature: 1, topK: 2 }, rng));
    const p = Array.from(logits).map((l) => Math.exp(l));
    const pz = p.reduce((s, x) => s + x, 0);
    expect(p[0] / pz + p[1] / pz).toBeLessThan(0.8); // so the nucleus is {0, 1, 4}
    const seen = new Set<number>();
    for (let i = 0; i < 4000; i++) seen.add(sampleToken(logits, { maxTokens: 1, temperature: 1, topP: 0.8 }, rng));
    expect([...seen].sort()).toEqual([0, 1, 4]);
    // top-k 3 then top-p renormalized within the top 3 {0, 1, 4}: p0 + p1 / (p0 + p1 + p4) > 0.8 keeps {0, 1} only
    const seenKP = new Set<number>();
    for (let i = 0; i < 4000; i++)
      seenKP.add(sampleToken(logits, { maxTokens: 1, temperature: 1, topK: 3, topP: 0.8 }, rng));
    expect([...seenKP].sort()).toEqual([0, 1]);
    // frequencies inside top-k follow the renormalized softmax
    const cnt = [0, 0];
    for (let i = 0; i < 20000; i++) cnt[sampleToken(logits, { maxTokens: 1, temperature: 1, topK: 2 }, rng)]++;
    expect(Math.abs(cnt[0] / 20000 - p[0] / (p[0] + p[1]))).toBeLessThan(0.015);
  });
});
