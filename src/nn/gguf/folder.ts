/**
 * A Hugging Face model folder of any supported family (config.json, model.safetensors, tokenizer.json,
 * tokenizer_config.json, and tokenizer.model for SentencePiece vocabularies) -> one GGUF in the family's llama.cpp
 * architecture. Written to a temporary name and renamed, so a killed export never leaves a half file that a
 * later run would load.
 */
import { existsSync, readFileSync, renameSync } from "node:fs";
import path from "node:path";
import { chatTemplateOf, readHfChatTemplate } from "../chat-template.ts";
import { configToHf } from "../llama.ts";
import { loadModel } from "../model.ts";
import { type HfLlamaConfig, writeLlamaGguf } from "./llama.ts";

function readJson(file: string, required: boolean): unknown {
  if (!existsSync(file)) {
    if (required) throw new Error(`${file} not found`);
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}

export interface FolderGgufOptions {
  dtype?: "f32" | "f16";
  /** general.name (default: the folder's name). */
  name?: string;
}

/** Exports modelDir to out; returns the number of tensors written. */
export function ggufFromFolder(modelDir: string, out: string, o: FolderGgufOptions = {}): { tensors: number } {
  const loaded = loadModel(modelDir);
  const tokenizerJson = readJson(path.join(modelDir, "tokenizer.json"), true);
  // the chat template wherever the folder keeps it (chat_template.jinja, else tokenizer_config.json)
  const { tokCfg, template } = readHfChatTemplate(modelDir);
  const tokenizerConfig =
    template !== undefined && chatTemplateOf(tokCfg) !== template ? { ...tokCfg, chat_template: template } : tokCfg;
  // SentencePiece vocabularies (Gemma, Mistral, Phi-3, Llama 2: BPE with byte fallback) export from tokenizer.model
  const spmPath = path.join(modelDir, "tokenizer.model");
  const model = (tokenizerJson as { model?: { byte_fallback?: boolean } }).model;
  const sentencePiece = model?.byte_fallback === true && existsSync(spmPath) ? readFileSync(spmPath) : undefined;
  const tmp = `${out}.${process.pid}.tmp`;
  writeLlamaGguf(tmp, {
    config: configToHf(loaded.config) as unknown as HfLlamaConfig,
    tensors: loaded.weights,
    tokenizer: { tokenizerJson, tokenizerConfig, sentencePiece },
    dtype: o.dtype ?? "f16",
    name: o.name ?? path.basename(path.resolve(modelDir)),
  });
  renameSync(tmp, out);
  return { tensors: loaded.weights.size };
}

/** The GGUF of a model folder at `out`, exported only when missing (re-runs reuse it). */
export function ensureGguf(modelDir: string, out: string, o: FolderGgufOptions = {}): string {
  if (!existsSync(out)) ggufFromFolder(modelDir, out, o);
  return out;
}
