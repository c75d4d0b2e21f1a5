/**
 * Test fixtures: a tiny random Llama saved as a Hugging Face folder (nn's safetensors writer + the GGUF engineer's
 * byte-level tokenizer fixture + a chat template) and the same model as a GGUF file, for provider and server tests.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { mulberry32 } from "../../domain/random.ts";
import {
  byteLevelTokenizerJson,
  FIXTURE_CHAT_TEMPLATE,
  randn,
  randomLlamaWeights,
  tinyLlamaConfig,
} from "../../nn/gguf/fixtures.ts";
import { writeLlamaGguf } from "../../nn/gguf/llama.ts";
import { configFromHf, type Weights } from "../../nn/llama.ts";
import { saveModel } from "../../nn/model.ts";
import { saveSafetensors } from "../../nn/safetensors.ts";

export function tinyTokenizerFiles() {
  const tok = byteLevelTokenizerJson();
  return {
    tok,
    tokenizerConfig: { chat_template: FIXTURE_CHAT_TEMPLATE, bos_token: "<|bos|>", eos_token: "<|eos|>" },
  };
}

export function tinyWeights(seed = 42): Weights {
  return randomLlamaWeights(tinyLlamaConfig(), seed) as Weights;
}

/** Writes config.json, model.safetensors, tokenizer.json and tokenizer_config.json into dir. */
export function writeTinyHfModel(dir: string, seed = 42): string {
  mkdirSync(dir, { recursive: true });
  const hf = tinyLlamaConfig();
  saveModel(dir, configFromHf({ ...hf, model_type: "llama" }), tinyWeights(seed));
  const { tok, tokenizerConfig } = tinyTokenizerFiles();
  writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(tok.json));
  writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(tokenizerConfig));
  return dir;
}

/** Writes the same tiny model as an F32 GGUF file. */
export function writeTinyGguf(file: string, seed = 42): string {
  const { tok, tokenizerConfig } = tinyTokenizerFiles();
  mkdirSync(path.dirname(file), { recursive: true });
  writeLlamaGguf(file, {
    config: tinyLlamaConfig(),
    tensors: tinyWeights(seed),
    tokenizer: { tokenizerJson: tok.json, tokenizerConfig },
  });
  return file;
}

/** A PEFT LoRA adapter folder for the tiny model (q_proj and v_proj of every layer, rank r). */
export function writeTinyPeftAdapter(
  dir: string,
  opts: { r?: number; alpha?: number; seed?: number; zeroB?: boolean } = {},
): string {
  const hf = tinyLlamaConfig();
  const r = opts.r ?? 4;
  const rand = mulberry32(opts.seed ?? 7);
  const D = hf.hidden_size;
  const kvOut = (hf.hidden_size / hf.num_attention_heads) * (hf.num_key_value_heads ?? hf.num_attention_heads);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (let l = 0; l < hf.num_hidden_layers; l++) {
    for (const [mod, out] of [
      ["q_proj", D],
      ["v_proj", kvOut],
    ] as const) {
      const p = `base_model.model.model.layers.${l}.self_attn.${mod}`;
      tensors.set(`${p}.lora_A.weight`, { shape: [r, D], data: randn(r * D, 0.2, rand) });
      tensors.set(`${p}.lora_B.weight`, {
        shape: [out, r],
        data: opts.zeroB ? new Float32Array(out * r) : randn(out * r, 0.2, rand),
      });
    }
  }
  mkdirSync(dir, { recursive: true });
  saveSafetensors(dir, tensors);
  // saveSafetensors names the file model.safetensors; PEFT calls it adapter_model.safetensors
  renameSync(path.join(dir, "model.safetensors"), path.join(dir, "adapter_model.safetensors"));
  writeFileSync(
    path.join(dir, "adapter_config.json"),
    JSON.stringify({ peft_type: "LORA", r, lora_alpha: opts.alpha ?? 8, target_modules: ["q_proj", "v_proj"] }),
  );
  return dir;
}
