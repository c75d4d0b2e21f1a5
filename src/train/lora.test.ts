import { describe, expect, it } from "vitest";
import { SplitMix32 } from "../domain/random.ts";
import { RefExecutor } from "../nn/executor-ref.ts";
import { buildForward, forwardBatch, initWeights, type LlamaConfig } from "../nn/llama.ts";
import { GraphBuilder } from "../nn/tensor.ts";
import { tinyLlama } from "../nn/testing.ts";
import { initLora, type LoraConfig, loraHook, loraModules, mergeLora, unmergeLora } from "./lora.ts";

const tinyModel = (over: Partial<LlamaConfig> = {}): LlamaConfig =>
  tinyLlama({ vocabSize: 40, intermediateSize: 48, ...over });

async function logits(
  cfg: LlamaConfig,
  weights: Map<string, { shape: readonly number[]; data: Float32Array | Float64Array | Int32Array }>,
  lora?: LoraConfig,
) {
  const B = 2;
  const T = 7;
  const b = new GraphBuilder();
  const g = buildForward(cfg, b, B, T, lora ? loraHook(cfg, lora, false) : undefined);
  const c = new RefExecutor().compile(b.graph, [g.logits.id]);
  const ids = Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % cfg.vocabSize);
  const [out] = await c.run({ ...Object.fromEntries(weights), ...forwardBatch(B, T, ids) });
  return out.data;
}

describe("LoRA", () => {
  const cfg = tinyModel();
  const lora: LoraConfig = { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj", "down_proj"] };
  const base = initWeights(cfg, 3);

  it("targets modules by name", () => {
    expect([...loraModules(cfg, lora).keys()]).toEqual([
      "model.layers.0.self_attn.q_proj",
      "model.layers.0.self_attn.v_proj",
      "model.layers.0.mlp.down_proj",
      "model.layers.1.self_attn.q_proj",
      "model.layers.1.self_attn.v_proj",
      "model.layers.1.mlp.down_proj",
    ]);
    expect(() => loraModules(cfg, { ...lora, targetModules: ["nope"] })).toThrow(/match no module/);
  });

  it("starts at the base model (B = 0) and its merged weights give the unmerged outputs", async () => {
    const adapter = initLora(cfg, lora, 11);
    const plain = await logits(cfg, base);
    const fresh = await logits(cfg, new Map([...base, ...adapter]), lora);
    let d0 = 0;
    for (let i = 0; i < plain.length; i++) d0 = Math.max(d0, Math.abs(plain[i] - fresh[i]));
    expect(d0).toBe(0);
    // a trained-looking adapter: non-zero B
    const rng = new SplitMix32(5);
    for (const [n, t] of adapter)
      if (n.includes("lora_B")) for (let i = 0; i < t.data.length; i++) t.data[i] = (rng.next() - 0.5) * 0.5;
    const unmerged = await logits(cfg, new Map([...base, ...adapter]), lora);
    const merged = await logits(cfg, mergeLora(base, adapter, cfg, lora));
    let d = 0;
    let moved = 0;
    for (let i = 0; i < merged.length; i++) {
      d = Math.max(d, Math.abs(merged[i] - unmerged[i]));
      moved = Math.max(moved, Math.abs(unmerged[i] - plain[i]));
    }
    expect(moved).toBeGreaterThan(1e-2); // the adapter really changes the outputs
    expect(d).toBeLessThan(1e-5);
    // unmerge restores the base weights
    const back = unmergeLora(mergeLora(base, adapter, cfg, lora), adapter, cfg, lora);
    for (const [n, t] of base) {
      const b2 = back.get(n)!.data;
      for (let i = 0; i < t.data.length; i++) expect(Math.abs(b2[i] - t.data[i])).toBeLessThan(1e-6);
    }
  });
});
