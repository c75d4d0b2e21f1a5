import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generate } from "../../nn/generate.ts";
import { tinyLlamaConfig } from "../../nn/gguf/fixtures.ts";
import { configFromHf } from "../../nn/llama.ts";
import { readSafetensorsFile } from "../../nn/safetensors.ts";
import { describeChatModelConformance } from "../testing/conformance.ts";
import { tinyWeights, writeTinyHfModel, writeTinyPeftAdapter } from "../testing/tiny-model.ts";
import { BuiltinModel, mergePeftAdapter } from "./builtin.ts";

const root = mkdtempSync(path.join(tmpdir(), "builtin-provider-"));
const modelDir = writeTinyHfModel(path.join(root, "tiny"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeChatModelConformance("builtin (nn engine, tiny random Llama)", async () => ({
  model: await BuiltinModel.load({ model: modelDir }),
  maxTokens: 8,
}));

describe("BuiltinModel", () => {
  it("renders the chat template and decodes greedily like nn's generate on the same tokens", async () => {
    const m = await BuiltinModel.load({ model: modelDir });
    const messages = [{ role: "user" as const, content: "the cat and the dog" }];
    const ids = m.encode(messages);
    expect(m.decode(ids)).toContain("the cat and the dog");
    const cfg = configFromHf({ ...tinyLlamaConfig(), model_type: "llama" });
    const [g] = generate(cfg, tinyWeights(), [ids], { maxTokens: 6, temperature: 0 });
    const r = await m.chat({ messages, maxTokens: 6, temperature: 0 });
    expect(r.usage).toEqual({ promptTokens: ids.length, completionTokens: g.tokens.length });
    expect(r.content).toBe(m.decode(g.tokens));
  });

  it("batches concurrent requests without changing greedy answers", async () => {
    const m = await BuiltinModel.load({ model: modelDir });
    const prompts = ["a", "the river", "and is or", "hello world, how are you today?"];
    const one: string[] = [];
    for (const p of prompts)
      one.push((await m.chat({ messages: [{ role: "user", content: p }], maxTokens: 6 })).content);
    const many = await m.chatMany(
      prompts.map((p) => ({ messages: [{ role: "user" as const, content: p }], maxTokens: 6 })),
    );
    expect(many.map((r) => r.content)).toEqual(one);
  });

  it("merges a PEFT LoRA adapter: B = 0 changes nothing, a real adapter changes the weights by (alpha/r) B A", async () => {
    const zero = writeTinyPeftAdapter(path.join(root, "zero"), { zeroB: true });
    const real = writeTinyPeftAdapter(path.join(root, "real"), { r: 4, alpha: 8 });
    const w = tinyWeights();
    const same = mergePeftAdapter(w, zero);
    expect(same.get("model.layers.0.self_attn.q_proj.weight")!.data).toEqual(
      w.get("model.layers.0.self_attn.q_proj.weight")!.data,
    );
    const merged = mergePeftAdapter(w, real);
    const before = w.get("model.layers.1.self_attn.v_proj.weight")!.data;
    const after = merged.get("model.layers.1.self_attn.v_proj.weight")!.data;
    expect(after).not.toEqual(before);
    const { tensors } = readSafetensorsFile(path.join(real, "adapter_model.safetensors"));
    const A = tensors.get("base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight")!;
    const B = tensors.get("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight")!;
    const [r, inF] = A.shape;
    for (const [o, i] of [
      [0, 0],
      [3, 17],
      [B.shape[0] - 1, inF - 1],
    ]) {
      let ba = 0;
      for (let k = 0; k < r; k++) ba += B.data[o * r + k] * A.data[k * inF + i];
      expect(after[o * inF + i] - before[o * inF + i]).toBeCloseTo((8 / 4) * ba, 5);
    }
    expect(merged.get("model.layers.0.mlp.up_proj.weight")).toBe(w.get("model.layers.0.mlp.up_proj.weight"));
    const base = await BuiltinModel.load({ model: modelDir });
    const withZero = await BuiltinModel.load({ model: modelDir, adapter: zero });
    const req = { messages: [{ role: "user" as const, content: "the cat" }], maxTokens: 6 };
    expect((await withZero.chat(req)).content).toBe((await base.chat(req)).content);
    expect(withZero.id).not.toBe(base.id);
  });

  it("is named by its weights, not its folder: a moved copy keeps the id, weights retrained in place get another", async () => {
    const dir = writeTinyHfModel(path.join(root, "retrain", "tiny"));
    const first = await BuiltinModel.load({ model: dir });
    expect(first.id).toMatch(/^builtin:tiny@[0-9a-f]{16}$/);
    cpSync(dir, path.join(root, "moved", "tiny"), { recursive: true });
    expect((await BuiltinModel.load({ model: path.join(root, "moved", "tiny") })).id).toBe(first.id);
    writeTinyHfModel(dir, 7); // the same folder, other weights
    const retrained = await BuiltinModel.load({ model: dir });
    expect(retrained.id).not.toBe(first.id);
    const req = { messages: [{ role: "user" as const, content: "the cat" }], maxTokens: 6, temperature: 0 };
    expect((await retrained.chat(req)).content).not.toBe((await first.chat(req)).content); // they answer differently
  });

  it("names the file when the folder is not a model", async () => {
    await expect(BuiltinModel.load({ model: root })).rejects.toThrow(/no config\.json/);
  });
});
