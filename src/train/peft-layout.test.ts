import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SplitMix32 } from "../domain/random.ts";
import { initWeights, type LlamaConfig, type Weights } from "../nn/llama.ts";
import { loadModel, saveModel } from "../nn/model.ts";
import { readSafetensorsFile } from "../nn/safetensors.ts";
import { tinyLlama } from "../nn/testing.ts";
import { combineAdapters, mergeAdapterFolder } from "./backends/merge.ts";
import { exportPeft, loadPeft } from "./export.ts";
import { initLora, type LoraConfig, loraModules, mergeLora } from "./lora.ts";
import { engineTargets, fromPeftLayout, fusedTargets, toPeftLayout } from "./peft-layout.ts";

// Phi-3 with grouped-query attention (4 query heads over 2 KV heads), so q's and k/v's row counts differ.
const phi3: LlamaConfig = tinyLlama({ modelType: "phi3", intermediateSize: 40 });
const ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

function trainedAdapter(model: LlamaConfig, cfg: LoraConfig, seed: number): Weights {
  const w = initLora(model, cfg, seed);
  const rng = new SplitMix32(seed + 1);
  for (const [n, t] of w)
    if (n.includes("lora_B")) for (let i = 0; i < t.data.length; i++) t.data[i] = (rng.next() - 0.5) * 0.3;
  return w;
}

function maxDiff(a: Weights, b: Weights): number {
  let worst = 0;
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [n, t] of a) {
    const u = b.get(n)!;
    expect(u.shape, n).toEqual(t.shape);
    for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(Number(t.data[i]) - Number(u.data[i])));
  }
  return worst;
}

describe("PEFT layout of Phi-3 adapters", () => {
  it("fuses q/k/v and gate/up into qkv_proj and gate_up_proj with one rank and the same scale", () => {
    const cfg: LoraConfig = { r: 4, alpha: 8, dropout: 0, targetModules: ALL };
    const { weights, config } = toPeftLayout(phi3, trainedAdapter(phi3, cfg, 3), cfg);
    const leaves = new Set([...weights.keys()].map((n) => n.split(".").at(-3)));
    expect([...leaves].sort()).toEqual(["down_proj", "gate_up_proj", "o_proj", "qkv_proj"]);
    expect(config.r).toBe(12); // q, k and v's ranks side by side
    expect(config.alpha / config.r).toBe(cfg.alpha / cfg.r);
    expect(config.targetModules.sort()).toEqual(["down_proj", "gate_up_proj", "o_proj", "qkv_proj"]);
    const qkvB = weights.get("model.layers.0.self_attn.qkv_proj.lora_B.weight")!;
    expect(qkvB.shape).toEqual([(4 + 2 * 2) * 8, 12]); // [(H + 2 KV) hd, R]
    for (const [n, t] of weights) expect(n.endsWith("lora_A.weight") ? t.shape[0] : t.shape[1], n).toBe(12);
  });

  it("split after fuse merges into the same weights as the engine's adapter (every family member, partial targets)", () => {
    const base = initWeights(phi3, 5, 0.05);
    for (const targets of [ALL, ["q_proj", "up_proj"], ["k_proj", "v_proj", "down_proj"], ["o_proj"]]) {
      const cfg: LoraConfig = { r: 4, alpha: 6, dropout: 0, targetModules: targets };
      const adapter = trainedAdapter(phi3, cfg, 7);
      const peft = toPeftLayout(phi3, adapter, cfg);
      const back = fromPeftLayout(phi3, peft.weights, peft.config);
      const want = mergeLora(base, adapter, phi3, cfg);
      const got = mergeLora(base, back.weights, phi3, back.config);
      expect(maxDiff(got, want), targets.join(",")).toBeLessThan(1e-6);
    }
  });

  it("a member it does not adapt gets zero rows of the fused lora_B", () => {
    const cfg: LoraConfig = { r: 2, alpha: 2, dropout: 0, targetModules: ["q_proj"] };
    const { weights, config } = toPeftLayout(phi3, trainedAdapter(phi3, cfg, 1), cfg);
    expect(config.r).toBe(2);
    expect(config.targetModules).toEqual(["qkv_proj"]);
    const B = weights.get("model.layers.1.self_attn.qkv_proj.lora_B.weight")!;
    const q = 4 * 8;
    const rowsNonZero = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, o) => [0, 1].some((k) => B.data[(from + o) * 2 + k] !== 0));
    expect(rowsNonZero(0, q).every(Boolean)).toBe(true);
    expect(rowsNonZero(q, q + 2 * 16).some(Boolean)).toBe(false);
  });

  it("targets may name either layout on Phi-3, and other families are left as they are", () => {
    expect(engineTargets(phi3, ["qkv_proj", "o_proj", "gate_up_proj"])).toEqual([
      "q_proj",
      "k_proj",
      "v_proj",
      "o_proj",
      "gate_proj",
      "up_proj",
    ]);
    expect(fusedTargets(phi3, ["q_proj", "k_proj", "down_proj"])).toEqual(["qkv_proj", "down_proj"]);
    const fused = { r: 2, alpha: 2, dropout: 0, targetModules: ["qkv_proj", "gate_up_proj"] };
    const split = { ...fused, targetModules: ["q_proj", "k_proj", "v_proj", "gate_proj", "up_proj"] };
    expect([...loraModules(phi3, fused)]).toEqual([...loraModules(phi3, split)]);
    const llama = tinyLlama();
    expect(() => loraModules(llama, fused)).toThrow(/match no module/);
    const cfg: LoraConfig = { r: 2, alpha: 4, dropout: 0, targetModules: ALL };
    const adapter = trainedAdapter(llama, cfg, 2);
    expect(toPeftLayout(llama, adapter, cfg).weights).toBe(adapter);
    expect(fromPeftLayout(llama, adapter, cfg).weights).toBe(adapter);
  });

  it("exportPeft writes PEFT's Phi-3 names; a base folder merged with it equals the engine's merge", () => {
    const dir = mkdtempSync(join(tmpdir(), "bf-peft-phi3-"));
    const base = initWeights(phi3, 11, 0.05);
    saveModel(join(dir, "base"), phi3, base);
    const cfg: LoraConfig = { r: 4, alpha: 8, dropout: 0, targetModules: ALL };
    const adapter = trainedAdapter(phi3, cfg, 13);
    exportPeft(join(dir, "adapter"), adapter, cfg, join(dir, "base"), phi3);
    const names = [...readSafetensorsFile(join(dir, "adapter", "adapter_model.safetensors")).tensors.keys()];
    expect(names).toContain("base_model.model.model.layers.0.self_attn.qkv_proj.lora_A.weight");
    expect(names).toContain("base_model.model.model.layers.1.mlp.gate_up_proj.lora_B.weight");
    expect(names.some((n) => /\.(q|k|v|gate|up)_proj\./.test(n))).toBe(false);
    const acfg = JSON.parse(readFileSync(join(dir, "adapter", "adapter_config.json"), "utf8"));
    expect(acfg).toMatchObject({ r: 12, lora_alpha: 24 });
    // Read back as stored, and in the engine's layout.
    expect(loadPeft(join(dir, "adapter")).config.targetModules).toContain("qkv_proj");
    mergeAdapterFolder(join(dir, "base"), join(dir, "adapter"), join(dir, "merged"));
    const merged = loadModel(join(dir, "merged")).weights;
    expect(maxDiff(merged, mergeLora(base, adapter, phi3, cfg))).toBeLessThan(1e-6);
  });

  it("two Phi-3 adapters combined into one for a server (vLLM) equal the two merged one after the other", () => {
    const dir = mkdtempSync(join(tmpdir(), "bf-peft-phi3-combine-"));
    const base = initWeights(phi3, 17, 0.05);
    saveModel(join(dir, "base"), phi3, base);
    const sft: LoraConfig = { r: 4, alpha: 8, dropout: 0, targetModules: ALL };
    const dpo: LoraConfig = { r: 2, alpha: 2, dropout: 0, targetModules: ["q_proj", "v_proj", "down_proj"] };
    const a1 = trainedAdapter(phi3, sft, 19);
    const a2 = trainedAdapter(phi3, dpo, 23);
    exportPeft(join(dir, "a1"), a1, sft, join(dir, "base"), phi3);
    exportPeft(join(dir, "a2"), a2, dpo, join(dir, "base"), phi3);
    combineAdapters([join(dir, "a1"), join(dir, "a2")], join(dir, "combined"));
    mergeAdapterFolder(join(dir, "base"), join(dir, "combined"), join(dir, "merged"));
    const want = mergeLora(mergeLora(base, a1, phi3, sft), a2, phi3, dpo);
    expect(maxDiff(loadModel(join(dir, "merged")).weights, want)).toBeLessThan(1e-5);
  });

  it("an adapter with a per-module rank or alpha is refused, naming the file and key", () => {
    const dir = mkdtempSync(join(tmpdir(), "bf-peft-pattern-"));
    const cfg: LoraConfig = { r: 2, alpha: 4, dropout: 0, targetModules: ["q_proj"] };
    exportPeft(dir, trainedAdapter(tinyLlama(), cfg, 1), cfg, "base");
    const file = join(dir, "adapter_config.json");
    const raw = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify({ ...raw, rank_pattern: { "layers.0.self_attn.q_proj": 8 } }));
    expect(() => loadPeft(dir)).toThrow(/adapter_config\.json: rank_pattern is not supported/);
    writeFileSync(file, JSON.stringify({ ...raw, rank_pattern: {}, alpha_pattern: {} }));
    expect(loadPeft(dir).config.r).toBe(2);
  });
});
