/** A PEFT LoRA adapter folder (ours or another trainer's) merged into the Hugging Face folder it was trained on. */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Weights } from "../../nn/llama.ts";
import { loadModel } from "../../nn/model.ts";
import { exportMerged, exportPeft, loadPeft } from "../export.ts";

/** Writes baseDir + adapterDir as a merged folder at outDir (config, weights, tokenizer); returns outDir. */
export function mergeAdapterFolder(baseDir: string, adapterDir: string, outDir: string): string {
  for (const f of ["adapter_config.json", "adapter_model.safetensors"])
    if (!existsSync(path.join(adapterDir, f))) throw new Error(`${adapterDir}: not a PEFT adapter folder (no ${f})`);
  const { config, weights } = loadModel(baseDir);
  const adapter = loadPeft(adapterDir, config);
  exportMerged(outDir, config, weights, baseDir, { weights: adapter.weights, config: adapter.config });
  return outDir;
}

/**
 * Several LoRA adapters applied one after the other (SFT then DPO, or stacked rounds) as ONE adapter on the first
 * one's base: each adds W += s_i B_i A_i, so the sum is exactly a LoRA of rank sum(r_i) with A = [A_1; A_2; ...]
 * (rows stacked) and B = [s_1 B_1, s_2 B_2, ...] (columns side by side) at scaling 1 (alpha = r). Servers that load
 * one adapter per request (vLLM, Ollama) can then serve the round's model on the base weights they already hold.
 * Modules an adapter does not touch get zero rows/columns for it. Written as a PEFT folder at outDir.
 */
export function combineAdapters(dirs: readonly string[], outDir: string): string {
  if (dirs.length === 0) throw new Error("combineAdapters: no adapter");
  const adapters = dirs.map((d) => ({ dir: d, ...loadPeft(d) }));
  const modules = new Set<string>();
  for (const a of adapters)
    for (const n of a.weights.keys())
      if (n.endsWith(".lora_A.weight")) modules.add(n.slice(0, -".lora_A.weight".length));
  const rank = adapters.reduce((s, a) => s + a.config.r, 0);
  const out: Weights = new Map();
  for (const m of [...modules].sort()) {
    // lora_A: [r, in]; lora_B: [out, r].
    const shapes = adapters
      .map((a) => [a.weights.get(`${m}.lora_A.weight`), a.weights.get(`${m}.lora_B.weight`)] as const)
      .find(([A, B]) => A && B);
    if (!shapes?.[0] || !shapes[1]) continue;
    const inDim = shapes[0].shape[1];
    const outDim = shapes[1].shape[0];
    const A = new Float32Array(rank * inDim);
    const B = new Float32Array(outDim * rank);
    let offset = 0;
    for (const a of adapters) {
      const r = a.config.r;
      const s = a.config.alpha / r;
      const Ai = a.weights.get(`${m}.lora_A.weight`);
      const Bi = a.weights.get(`${m}.lora_B.weight`);
      if (Ai && Bi) {
        if (Ai.shape[1] !== inDim || Bi.shape[0] !== outDim)
          throw new Error(`${a.dir}: ${m} has shape [${Bi.shape[0]}x${Ai.shape[1]}], expected [${outDim}x${inDim}]`);
        A.set(Float32Array.from(Ai.data), offset * inDim);
        for (let o = 0; o < outDim; o++)
          for (let k = 0; k < r; k++) B[o * rank + offset + k] = s * Number(Bi.data[o * r + k]);
      }
      offset += r;
    }
    out.set(`${m}.lora_A.weight`, { shape: [rank, inDim], data: A });
    out.set(`${m}.lora_B.weight`, { shape: [outDim, rank], data: B });
  }
  const targets = [...new Set(adapters.flatMap((a) => a.config.targetModules))];
  exportPeft(outDir, out, { r: rank, alpha: rank, dropout: 0, targetModules: targets }, adapters[0].baseModel);
  return outDir;
}
