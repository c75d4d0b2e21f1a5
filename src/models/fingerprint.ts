/**
 * Content fingerprints of local weights, and the ids local models answer under.
 *
 * A local model is named by what it computes with, never by where it lies: stored answers, bench records and attacks
 * are keyed by the model's id, so a path in it would hand back the old weights' answers after a retrain into the same
 * file, and a moved file would start over. Files are hashed whole (sha256, streamed in 8 MiB reads, so a GGUF of many
 * GiB never sits in memory): a checksum over sampled blocks would miss a fine-tune that changed only a few tensors.
 * Each digest is remembered for the process, keyed by the file's device, inode, size and mtime (ns), so a model opened
 * again costs a stat, not a read (a file written in the last 2 s is always read again).
 */
import { createHash, type Hash } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from "node:fs";
import path from "node:path";

const CHUNK = 8 << 20;
const memo = new Map<string, string>();

/**
 * A file's identity for the memo: where it really is and what its stat says. A file written in the last 2 s is not
 * remembered ("racy" in git's sense): mtime ticks are coarse, so a rewrite of the same size within one tick would keep
 * the old key.
 */
function statKey(file: string): { key: string; settled: boolean } {
  const s = statSync(file, { bigint: true });
  return {
    key: `${realpathSync(file)}\0${s.dev}\0${s.ino}\0${s.size}\0${s.mtimeNs}`,
    settled: Date.now() - Number(s.mtimeMs) > RACY_MS,
  };
}
const RACY_MS = 2000;

function hashFileInto(h: Hash, file: string): void {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n = readSync(fd, buf, 0, CHUNK, null); n > 0; n = readSync(fd, buf, 0, CHUNK, null))
      h.update(n === CHUNK ? buf : buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

function memoized(scheme: "bytes" | "named", files: readonly string[], compute: () => string): string {
  const stats = files.map(statKey);
  const key = [scheme, ...stats.map((s) => s.key)].join("\n");
  const known = memo.get(key);
  if (known !== undefined) return known;
  const fp = compute();
  if (stats.every((s) => s.settled)) memo.set(key, fp);
  return fp;
}

/** sha256 (hex) of a file's bytes, e.g. a GGUF model or adapter. */
export function fileFingerprint(file: string): string {
  return memoized("bytes", [file], () => {
    const h = createHash("sha256");
    hashFileInto(h, file);
    return h.digest("hex");
  });
}

/** sha256 over (name, bytes) of each file in order: the scheme of every folder fingerprint below. */
function namedFilesFingerprint(dir: string, names: readonly string[]): string {
  const files = names.map((f) => path.join(dir, f));
  return memoized("named", files, () => {
    const h = createHash("sha256");
    names.forEach((f, i) => {
      h.update(f);
      hashFileInto(h, files[i]);
    });
    return h.digest("hex");
  });
}

const SHARD_INDEX = "model.safetensors.index.json";
/** Files that change what a folder's model answers, hashed when present (after the required ones). */
const OPTIONAL_MODEL_FILES = ["special_tokens_map.json", "generation_config.json", "chat_template.jinja"];

/** The weight files of a Hugging Face folder: the shard index and its shards (sorted), or model.safetensors. */
function weightFiles(dir: string): string[] {
  const index = path.join(dir, SHARD_INDEX);
  if (existsSync(index)) {
    let map: unknown;
    try {
      map = (JSON.parse(readFileSync(index, "utf8")) as { weight_map?: unknown }).weight_map;
    } catch (err) {
      throw new Error(`${index}: ${(err as Error).message}`);
    }
    if (!map || typeof map !== "object") throw new Error(`${index}: missing "weight_map"`);
    const shards = [...new Set(Object.values(map as Record<string, unknown>).map(String))].sort();
    for (const s of shards)
      if (!existsSync(path.join(dir, s))) throw new Error(`${index}: weight_map names ${s}, which is missing`);
    return [SHARD_INDEX, ...shards];
  }
  if (existsSync(path.join(dir, "model.safetensors"))) return ["model.safetensors"];
  throw new Error(`${dir}: not a Hugging Face model folder (no model.safetensors or ${SHARD_INDEX})`);
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
  return namedFilesFingerprint(dir, [
    "config.json",
    ...weightFiles(dir),
    "tokenizer.json",
    "tokenizer_config.json",
    ...optional,
  ]);
}

/** Content fingerprint of an adapter: a GGUF LoRA file, or a PEFT folder (adapter_config.json + its weights). */
export function adapterFingerprint(adapter: string): string {
  if (!statSync(adapter).isDirectory()) return fileFingerprint(adapter);
  const weights = ["adapter_model.safetensors", "adapter_model.bin"].find((f) => existsSync(path.join(adapter, f)));
  if (!weights || !existsSync(path.join(adapter, "adapter_config.json")))
    throw new Error(`${adapter}: not a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)`);
  return namedFilesFingerprint(adapter, ["adapter_config.json", weights]);
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
