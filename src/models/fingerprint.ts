/**
 * Content fingerprints of local weights, and the ids local models answer under.
 *
 * A local model is named by what it computes with, never by where it lies: stored answers, bench records and attacks
 * are keyed by the model's id, so a path in it would hand back the old weights' answers after a retrain into the same
 * file, and a moved file would start over. Files are hashed whole by domain/file-hash.ts (streamed, remembered per
 * stat, so a model opened again costs a stat, not a read).
 */
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { fileSha256, namedFilesSha256 } from "../domain/file-hash.ts";
import { INDEX_FILE, readShardIndex } from "../nn/safetensors.ts";

/** Files that change what a folder's model answers, hashed when present (after the required ones). */
const OPTIONAL_MODEL_FILES = ["special_tokens_map.json", "generation_config.json", "chat_template.jinja"];

/** The weight files of a Hugging Face folder: the shard index and its shards (sorted), or model.safetensors. */
function weightFiles(dir: string): string[] {
  const index = readShardIndex(dir);
  if (index) {
    const shards = [...index.shards].sort();
    for (const s of shards)
      if (!existsSync(path.join(dir, s))) throw new Error(`${index.path}: weight_map names ${s}, which is missing`);
    return [INDEX_FILE, ...shards];
  }
  if (existsSync(path.join(dir, "model.safetensors"))) return ["model.safetensors"];
  throw new Error(`${dir}: not a Hugging Face model folder (no model.safetensors or ${INDEX_FILE})`);
}

/**
 * Content fingerprint of a Hugging Face model folder: config, weights (one file, or the shard index and every shard),
 * the tokenizer, and the files that change its answers when present (special tokens, generation config, chat
 * template). A single-file folder without those optional files keeps the digest this had when it covered four files
 * only: the cycle's run ids and the attacks drawn from them are pinned by it (README's figures).
 */
export function modelFolderFingerprint(dir: string): string {
  for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json"])
    if (!existsSync(path.join(dir, f))) throw new Error(`${dir}: not a Hugging Face model folder (no ${f})`);
  const optional = OPTIONAL_MODEL_FILES.filter((f) => existsSync(path.join(dir, f)));
  return namedFilesSha256(dir, [
    "config.json",
    ...weightFiles(dir),
    "tokenizer.json",
    "tokenizer_config.json",
    ...optional,
  ]);
}

/** Content fingerprint of an adapter: a GGUF LoRA file, or a PEFT folder (adapter_config.json + its weights). */
export function adapterFingerprint(adapter: string): string {
  if (!statSync(adapter).isDirectory()) return fileSha256(adapter);
  const weights = ["adapter_model.safetensors", "adapter_model.bin"].find((f) => existsSync(path.join(adapter, f)));
  if (!weights || !existsSync(path.join(adapter, "adapter_config.json")))
    throw new Error(`${adapter}: not a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)`);
  return namedFilesSha256(adapter, ["adapter_config.json", weights]);
}

/**
 * The id a local model answers under: `ENGINE:NAME[+ADAPTER...]@FP16`, where the names are the files' base names (to
 * read in reports) and FP16 the first 16 hex digits of the weights' fingerprint (with the adapters', in order).
 * Retrained weights get another id; the same weights moved to another folder keep theirs.
 */
export function localModelId(
  engine: "llamacpp" | "builtin",
  model: string,
  modelFp: string,
  adapters: readonly { path: string; fingerprint: string }[] = [],
): string {
  const fp = adapters.length
    ? createHash("sha256")
        .update(JSON.stringify([modelFp, ...adapters.map((a) => a.fingerprint)]))
        .digest("hex")
    : modelFp;
  const names = [model, ...adapters.map((a) => a.path)].map((p) => path.basename(path.resolve(p)));
  return `${engine}:${names.join("+")}@${fp.slice(0, 16)}`;
}

/**
 * What `breakfix serve --model M [--adapter A]` serves, as one fingerprint: a folder's modelFolderFingerprint (what a
 * cycle's round model is named by, so a deploy can compare the two), a GGUF file's sha256, and with an adapter a hash
 * of both.
 */
export function servedWeightsFingerprint(model: string, adapter?: string): string {
  const base = statSync(model).isDirectory() ? modelFolderFingerprint(model) : fileSha256(model);
  return adapter
    ? createHash("sha256")
        .update(`${base}+${adapterFingerprint(adapter)}`)
        .digest("hex")
    : base;
}
