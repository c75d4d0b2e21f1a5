/**
 * A white-box target for GCG: a local Hugging Face folder run on our engine (src/nn/), with the same chat encoding as
 * the builtin provider (the folder's chat template; control tokens only from the template) so that a suffix found here
 * is the suffix the builtin provider, `breakfix serve` and the folder's GGUF export see.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { contentHash } from "../../domain/hash.ts";
import { readHfChatTemplate } from "../../models/providers/builtin.ts";
import { renderChatTemplate } from "../../models/providers/llamacpp.ts";
import { type ControlTokenizer, encodeChat } from "../../nn/chat-encode.ts";
import { noChatTemplate } from "../../nn/chat-template.ts";
import type { LlamaConfig, Weights } from "../../nn/llama.ts";
import { loadModel } from "../../nn/model.ts";
import { hfControlTokenizer } from "../../nn/tokenizer.ts";

export interface WhiteBoxTarget {
  /** identifies the weights (folder + file sizes and times): part of every GCG run key */
  readonly id: string;
  readonly config: LlamaConfig;
  readonly weights: Weights;
  /** ids of the chat-templated conversation of one user message, with the generation prompt */
  encodeUser(text: string): number[];
  /** ids of plain text (no control tokens), e.g. the target answer */
  encodeText(text: string): number[];
  decode(ids: readonly number[]): string;
  /** control-token ids (never proposed as suffix tokens) */
  readonly controlIds: readonly number[];
  /** tokens that end generation */
  readonly stopTokens: readonly number[];
}

/** True when `dir` is a folder our engine can run as a white-box target (config.json + tokenizer.json). */
export function isLocalHfFolder(dir: string): boolean {
  return existsSync(path.join(dir, "config.json")) && existsSync(path.join(dir, "tokenizer.json"));
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

/** Loads an HF folder (LlamaForCausalLM family our engine runs) as a white-box target. */
export function loadWhiteBox(dir: string): WhiteBoxTarget {
  if (!isLocalHfFolder(dir)) throw new Error(`${dir}: not a Hugging Face model folder (config.json + tokenizer.json)`);
  const { config, weights } = loadModel(dir);
  const tokJson = readJson(path.join(dir, "tokenizer.json"));
  const { tokCfg, template } = readHfChatTemplate(dir);
  if (!template) throw new Error(noChatTemplate(dir, "GCG needs the model's chat template"));
  const tokenizer = new Tokenizer(tokJson, tokCfg);
  const control: ControlTokenizer = hfControlTokenizer(tokJson, tokCfg, tokenizer);
  const str = (t: unknown) =>
    typeof t === "string"
      ? t
      : typeof (t as { content?: unknown })?.content === "string"
        ? String((t as { content: string }).content)
        : undefined;
  const specials = { bos_token: str(tokCfg.bos_token), eos_token: str(tokCfg.eos_token) };
  const stops = new Set<number>();
  const e = config.eosTokenId;
  for (const id of e === undefined ? [] : Array.isArray(e) ? e : [e]) stops.add(id);
  if (specials.eos_token) {
    const id = tokenizer.token_to_id(specials.eos_token);
    if (id !== undefined) stops.add(id);
  }
  const files = ["config.json", "tokenizer.json", ...readdirSafetensors(dir)].map((f) => {
    const s = statSync(path.join(dir, f));
    return [f, s.size, Math.round(s.mtimeMs)];
  });
  return {
    id: `hf:${path.resolve(dir)}:${contentHash(files).slice(0, 16)}`,
    config,
    weights,
    encodeUser: (text) =>
      encodeChat(
        (ms) => renderChatTemplate(template, ms, specials),
        [{ role: "user" as const, content: text }],
        control,
      ),
    encodeText: (text) => control.encodeText(text),
    decode: (ids) => (ids.length === 0 ? "" : tokenizer.decode([...ids], { skip_special_tokens: true })),
    controlIds: control.controlTokens.map((t) => control.controlId(t)),
    stopTokens: [...stops],
  };
}

function readdirSafetensors(dir: string): string[] {
  return existsSync(path.join(dir, "model.safetensors"))
    ? ["model.safetensors"]
    : existsSync(path.join(dir, "model.safetensors.index.json"))
      ? ["model.safetensors.index.json"]
      : [];
}
