/**
 * The actions of `breakfix gguf export|inspect` (registered in gguf.ts), loaded when one runs: a Hugging Face Llama /
 * Phi-3 folder (config.json, safetensors, tokenizer.json, tokenizer_config.json) -> one llama-architecture GGUF (F32
 * or F16) that llama.cpp / node-llama-cpp load; what a GGUF holds (architecture, sizes, tokenizer, tensors).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { ggufFromFolder } from "../../nn/gguf/folder.ts";
import { readGguf } from "../../nn/gguf/gguf.ts";
import { CliError, runFailed } from "../errors.ts";

export function exportGguf(modelDir: string, out: string, dtype: "f32" | "f16", name?: string): { tensors: number } {
  if (!existsSync(modelDir)) throw new CliError(`${modelDir}: no such model folder`);
  try {
    return ggufFromFolder(modelDir, out, { dtype, name });
  } catch (e) {
    throw runFailed(`GGUF export of ${modelDir} failed: ${(e as Error).message}`);
  }
}

/** A missing, truncated or malformed file is an input error (exit 2) whose message names the file. */
export function inspectGguf(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new CliError(`${file}: no such file`);
  let f: ReturnType<typeof readGguf>;
  try {
    f = readGguf(file);
  } catch (e) {
    const msg = (e as Error).message;
    throw new CliError(msg.startsWith(file) ? msg : `${file}: ${msg}`);
  }
  const meta: Record<string, unknown> = {};
  for (const [k, v] of f.metadata) {
    if (Array.isArray(v)) meta[k] = `[${v.length} items]`;
    else if (typeof v === "string" && v.length > 200) meta[k] = `${v.slice(0, 200)}... (${v.length} chars)`;
    else meta[k] = v;
  }
  const typeName = (t: number) => (t === 0 ? "F32" : t === 1 ? "F16" : `ggml type ${t}`);
  return {
    file,
    version: f.version,
    parameters: f.tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0),
    metadata: meta,
    tensors: f.tensors.map((t) => `${t.name} [${t.shape.join(", ")}] ${typeName(t.type)}`),
  };
}

/** `gguf export <modelDir>`. */
export function exportAction(modelDir: string, o: { out?: string; dtype: string; name?: string }): void {
  if (o.dtype !== "f32" && o.dtype !== "f16") throw new CliError(`--dtype must be f32 or f16, got '${o.dtype}'`);
  const out = o.out ?? path.join(modelDir, "model.gguf");
  const r = exportGguf(modelDir, out, o.dtype, o.name);
  process.stdout.write(`wrote ${out} (${r.tensors} tensors, ${o.dtype})\n`);
}

/** `gguf inspect <file>`. */
export function inspectAction(file: string, o: { json?: boolean }): void {
  const info = inspectGguf(file);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(info)}\n`);
    return;
  }
  const meta = info.metadata as Record<string, unknown>;
  const lines = [`${file}: GGUF v${info.version}, ${info.parameters} parameters`];
  for (const [k, v] of Object.entries(meta)) lines.push(`  ${k} = ${typeof v === "string" ? v : JSON.stringify(v)}`);
  lines.push(`  ${(info.tensors as string[]).length} tensors:`);
  for (const t of info.tensors as string[]) lines.push(`    ${t}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}
