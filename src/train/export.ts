/**
 * Exports of a trained model, in the formats other tools read:
 * - a merged Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer files copied from the base);
 * - a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors, PEFT's tensor names), which PEFT and vLLM
 *   load on top of the base model;
 * - a GGUF LoRA adapter for llama.cpp.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HfLlamaConfig } from "../nn/gguf/llama.ts";
import { writeLoraGguf } from "../nn/gguf/llama.ts";
import { configToHf, type LlamaConfig, type Weights } from "../nn/llama.ts";
import { saveModel } from "../nn/model.ts";
import { readSafetensorsFile, serializeSafetensors } from "../nn/safetensors.ts";
import { isLoraParam, type LoraConfig, loraModules, mergeLora } from "./lora.ts";
import { fromPeftLayout, toPeftLayout } from "./peft-layout.ts";

export const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "generation_config.json",
  "chat_template.jinja",
];

export function copyTokenizerFiles(fromDir: string, toDir: string): void {
  for (const f of TOKENIZER_FILES) if (existsSync(join(fromDir, f))) copyFileSync(join(fromDir, f), join(toDir, f));
}

/** A merged HF checkpoint: base + adapter (when given) in one set of weights. */
export function exportMerged(
  dir: string,
  model: LlamaConfig,
  base: Weights,
  baseDir: string,
  adapter?: { weights: Weights; config: LoraConfig },
  dtype: "F32" | "F16" = "F32",
): void {
  mkdirSync(dir, { recursive: true });
  const merged = adapter ? mergeLora(base, adapter.weights, model, adapter.config) : base;
  // A merged model holds base tensors only: LoRA tensors that reached the weights map (a LoRA checkpoint loaded into a
  // full fine-tune) are never exported as part of it.
  const weights: Weights = new Map([...merged].filter(([n]) => !isLoraParam(n)));
  saveModel(dir, model, weights, { dtype });
  copyTokenizerFiles(baseDir, dir);
}

const PEFT_PREFIX = "base_model.model.";

/**
 * Writes a PEFT adapter folder. `baseModel` goes into base_model_name_or_path. With `model` (the engine's config the
 * adapter was trained on) the adapter is written in that family's Hugging Face layout (Phi-3: fused qkv_proj and
 * gate_up_proj, peft-layout.ts); without it the tensors are written under the names they have.
 */
export function exportPeft(
  dir: string,
  adapter: Weights,
  loraCfg: LoraConfig,
  baseModel: string,
  model?: LlamaConfig,
): void {
  mkdirSync(dir, { recursive: true });
  const { weights, config: cfg } = model
    ? toPeftLayout(model, adapter, loraCfg)
    : { weights: adapter, config: loraCfg };
  const tensors: Weights = new Map();
  for (const [n, t] of weights) tensors.set(`${PEFT_PREFIX}${n}`, t);
  writeFileSync(join(dir, "adapter_model.safetensors"), serializeSafetensors(tensors, "F32"));
  const config = {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    base_model_name_or_path: baseModel,
    r: cfg.r,
    lora_alpha: cfg.alpha,
    lora_dropout: cfg.dropout,
    target_modules: cfg.targetModules,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    use_rslora: false,
    use_dora: false,
    layers_to_transform: null,
    revision: null,
  };
  writeFileSync(join(dir, "adapter_config.json"), `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * Reads a PEFT adapter folder back (our names: without the PEFT prefix). With `model` (the engine's config of the
 * base it applies to) the adapter comes in the engine's layout (Phi-3's fused modules split); without it, as stored.
 */
export function loadPeft(
  dir: string,
  model?: LlamaConfig,
): { weights: Weights; config: LoraConfig; baseModel: string } {
  const cfgPath = join(dir, "adapter_config.json");
  const raw = JSON.parse(readFileSync(cfgPath, "utf8")) as Record<string, unknown>;
  if (raw.peft_type !== "LORA")
    throw new Error(`${cfgPath}: peft_type must be "LORA", got ${JSON.stringify(raw.peft_type)}`);
  if (raw.use_dora || raw.use_rslora) throw new Error(`${cfgPath}: DoRA and rsLoRA adapters are not supported`);
  // One rank and one scale for every module: a per-module rank or alpha would be read as the global one.
  for (const k of ["rank_pattern", "alpha_pattern"])
    if (raw[k] && typeof raw[k] === "object" && Object.keys(raw[k] as object).length > 0)
      throw new Error(`${cfgPath}: ${k} is not supported (every module must use r and lora_alpha)`);
  const targets = raw.target_modules;
  const config: LoraConfig = {
    r: Number(raw.r),
    alpha: Number(raw.lora_alpha),
    dropout: Number(raw.lora_dropout ?? 0),
    targetModules: Array.isArray(targets) ? targets.map(String) : String(targets).split(","),
  };
  if (!Number.isInteger(config.r) || config.r <= 0) throw new Error(`${cfgPath}: r must be a positive integer`);
  const { tensors } = readSafetensorsFile(join(dir, "adapter_model.safetensors"));
  const weights: Weights = new Map();
  for (const [n, t] of tensors) {
    const name = n.startsWith(PEFT_PREFIX) ? n.slice(PEFT_PREFIX.length) : n;
    weights.set(name.replace(".lora_A.default.", ".lora_A.").replace(".lora_B.default.", ".lora_B."), t);
  }
  const baseModel = String(raw.base_model_name_or_path ?? "");
  return model ? { ...fromPeftLayout(model, weights, config), baseModel } : { weights, config, baseModel };
}

/** Writes the adapter as a GGUF LoRA adapter for llama.cpp. */
export function exportGgufLora(
  path: string,
  model: LlamaConfig,
  adapter: Weights,
  cfg: LoraConfig,
  dtype: "f32" | "f16" = "f32",
): void {
  const pairs = new Map<
    string,
    { a: { shape: number[]; data: Float32Array }; b: { shape: number[]; data: Float32Array } }
  >();
  for (const module of loraModules(model, cfg).keys()) {
    const a = adapter.get(`${module}.lora_A.weight`);
    const b = adapter.get(`${module}.lora_B.weight`);
    if (!a || !b) throw new Error(`adapter has no weights for ${module}`);
    pairs.set(`${module}.weight`, {
      a: { shape: [...a.shape], data: Float32Array.from(a.data) },
      b: { shape: [...b.shape], data: Float32Array.from(b.data) },
    });
  }
  writeLoraGguf(path, { config: configToHf(model) as unknown as HfLlamaConfig, pairs, alpha: cfg.alpha, dtype });
}
