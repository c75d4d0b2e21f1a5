/**
 * What a TRL job leaves in output/, checked before anything uses it, and the adapter merged into the stage's starting
 * folder with the project's own code (mergeAdapterFolder), so the next stage and the deploy step get a Hugging
 * Face folder. Errors name the file.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { mergeAdapterFolder } from "../merge.ts";

export class TrlOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrlOutputError";
  }
}

/** Tensor names of a safetensors file, from its header only (the data is never read). */
export function safetensorsNames(file: string): string[] {
  if (!existsSync(file)) throw new TrlOutputError(`${file}: not found`);
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(8);
    if (readSync(fd, head, 0, 8, 0) !== 8) throw new TrlOutputError(`${file}: too short for a safetensors file`);
    const len = Number(head.readBigUInt64LE(0));
    if (len <= 0 || len > 100_000_000)
      throw new TrlOutputError(`${file}: not a safetensors file (header length ${len})`);
    const buf = Buffer.alloc(len);
    if (readSync(fd, buf, 0, len, 8) !== len) throw new TrlOutputError(`${file}: truncated header`);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(buf.toString("utf8")) as Record<string, unknown>;
    } catch {
      throw new TrlOutputError(`${file}: the safetensors header is not JSON`);
    }
    return Object.keys(header).filter((k) => k !== "__metadata__");
  } finally {
    closeSync(fd);
  }
}

const LORA_TENSOR = /^base_model\.model\.(.+)\.(lora_A|lora_B)(?:\.[A-Za-z0-9_]+)?\.weight$/;

/**
 * A PEFT LoRA adapter folder: adapter_config.json (LORA, the rank and target modules asked for) and
 * adapter_model.safetensors whose every tensor is a lora_A/lora_B of a target module, every target adapted somewhere.
 */
export function validateAdapter(dir: string, expect: { r: number; targets: readonly string[] }): { tensors: number } {
  const cfgFile = join(dir, "adapter_config.json");
  if (!existsSync(cfgFile)) throw new TrlOutputError(`${cfgFile}: not found (the job wrote no PEFT adapter)`);
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(readFileSync(cfgFile, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new TrlOutputError(`${cfgFile}: invalid JSON (${(err as Error).message})`);
  }
  if (cfg.peft_type !== "LORA")
    throw new TrlOutputError(`${cfgFile}: peft_type is ${JSON.stringify(cfg.peft_type)}, not "LORA"`);
  if (Number(cfg.r) !== expect.r)
    throw new TrlOutputError(`${cfgFile}: r is ${String(cfg.r)}, the job asked for ${expect.r}`);
  const saved = Array.isArray(cfg.target_modules) ? cfg.target_modules.map(String) : [];
  const missing = expect.targets.filter((t) => !saved.includes(t));
  if (missing.length > 0)
    throw new TrlOutputError(
      `${cfgFile}: target_modules ${JSON.stringify(cfg.target_modules)} lack ${missing.join(", ")} (asked: ${expect.targets.join(", ")})`,
    );
  const file = join(dir, "adapter_model.safetensors");
  const names = safetensorsNames(file);
  if (names.length === 0) throw new TrlOutputError(`${file}: holds no tensors`);
  const seen = new Set<string>();
  const pairs = new Map<string, Set<string>>();
  for (const n of names) {
    const m = LORA_TENSOR.exec(n);
    if (!m)
      throw new TrlOutputError(
        `${file}: tensor ${n} is not a PEFT LoRA tensor (base_model.model.<module>.lora_A|B.weight)`,
      );
    const leaf = m[1].split(".").at(-1) ?? "";
    if (!expect.targets.includes(leaf))
      throw new TrlOutputError(
        `${file}: tensor ${n} adapts ${leaf}, which is not a target module (${expect.targets.join(", ")})`,
      );
    seen.add(leaf);
    const p = pairs.get(m[1]) ?? new Set<string>();
    p.add(m[2]);
    pairs.set(m[1], p);
  }
  for (const [module, p] of pairs)
    if (p.size !== 2) throw new TrlOutputError(`${file}: ${module} has ${[...p].join("")} without its pair`);
  const unadapted = expect.targets.filter((t) => !seen.has(t));
  if (unadapted.length > 0)
    throw new TrlOutputError(`${file}: no tensors for target module(s) ${unadapted.join(", ")}`);
  return { tensors: names.length };
}

/** A merged model folder: config.json, *.safetensors (single or sharded), and a tokenizer. */
export function validateMergedFolder(dir: string): void {
  const cfg = join(dir, "config.json");
  if (!existsSync(cfg)) throw new TrlOutputError(`${cfg}: not found (the job wrote no model)`);
  try {
    JSON.parse(readFileSync(cfg, "utf8"));
  } catch (err) {
    throw new TrlOutputError(`${cfg}: invalid JSON (${(err as Error).message})`);
  }
  const files = readdirSync(dir);
  const shards = files.filter((f) => f.endsWith(".safetensors"));
  if (shards.length === 0) throw new TrlOutputError(`${dir}: no *.safetensors weights`);
  for (const s of shards) safetensorsNames(join(dir, s));
  if (!files.includes("tokenizer.json") && !files.includes("tokenizer_config.json"))
    throw new TrlOutputError(`${join(dir, "tokenizer.json")}: not found (the job saved no tokenizer)`);
}

/** The adapter merged into the starting folder, written atomically to `dir` (a Hugging Face folder). */
export function mergeAdapterInto(dir: string, startDir: string, adapterDir: string): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mergeAdapterFolder(startDir, adapterDir, tmp);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}
