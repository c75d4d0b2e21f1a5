/**
 * LoRA (Hu et al. 2021) as a linear-layer hook on the Llama graph:
 *   y = x W^T + (alpha / r) * dropout(x) A^T B^T,   A: [r, in], B: [out, r]
 * Parameter names follow PEFT inside the model ("model.layers.0.self_attn.q_proj.lora_A.weight"); the PEFT export
 * adds PEFT's "base_model.model." prefix. A is initialised as PEFT does (kaiming-uniform, a = sqrt(5), i.e.
 * U(-1/sqrt(in), 1/sqrt(in))), B as zeros, so training starts exactly at the base model.
 */

import { SplitMix32 } from "../domain/random.ts";
import type { HostTensor } from "../nn/ir.ts";
import { type LinearHook, type LlamaConfig, paramShapes, type Weights } from "../nn/llama.ts";
import { linear, type Sym } from "../nn/tensor.ts";
import { engineTargets } from "./peft-layout.ts";

export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  /** Module name suffixes to adapt, e.g. ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]. */
  targetModules: string[];
}

export const DEFAULT_LORA: LoraConfig = {
  r: 16,
  alpha: 32,
  dropout: 0,
  targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
};

export function loraScaling(cfg: LoraConfig): number {
  return cfg.alpha / cfg.r;
}

/** The adapted modules of a model and their [out, in] weight shapes. */
export function loraModules(model: LlamaConfig, cfg: LoraConfig): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  // Phi-3's Hugging Face names (qkv_proj, gate_up_proj) stand for the engine's split projections.
  const targets = engineTargets(model, cfg.targetModules);
  for (const [name, shape] of paramShapes(model)) {
    if (!name.endsWith(".weight") || shape.length !== 2) continue;
    const module = name.slice(0, -".weight".length);
    const leaf = module.split(".").at(-1)!;
    if (module === "model.embed_tokens") continue;
    if (targets.includes(leaf)) out.set(module, [shape[0], shape[1]]);
  }
  if (out.size === 0)
    throw new Error(`lora.target_modules ${JSON.stringify(cfg.targetModules)} match no module of the model`);
  return out;
}

export const loraAName = (module: string) => `${module}.lora_A.weight`;
export const loraBName = (module: string) => `${module}.lora_B.weight`;
export const isLoraParam = (name: string) => name.includes(".lora_A.") || name.includes(".lora_B.");

/** Fresh adapter weights, deterministic for a seed. */
export function initLora(model: LlamaConfig, cfg: LoraConfig, seed: number): Weights {
  const rng = new SplitMix32(seed);
  const w: Weights = new Map();
  for (const [module, [outF, inF]] of loraModules(model, cfg)) {
    const bound = 1 / Math.sqrt(inF);
    const a = new Float32Array(cfg.r * inF);
    for (let i = 0; i < a.length; i++) a[i] = (rng.next() * 2 - 1) * bound;
    w.set(loraAName(module), { shape: [cfg.r, inF], data: a });
    w.set(loraBName(module), { shape: [outF, cfg.r], data: new Float32Array(outF * cfg.r) });
  }
  return w;
}

/** Name of the dropout-mask input of a module (fed per step when dropout > 0). */
export const loraDropoutInput = (module: string) => `lora_dropout.${module}`;

/**
 * The hook that adds the LoRA path to adapted modules. With dropout > 0 the graph takes one mask input per module
 * (shape of x; entries 0 or 1/(1-p)), fed by `dropoutFeeds`, since the IR has no random ops.
 */
export function loraHook(model: LlamaConfig, cfg: LoraConfig, withDropout: boolean): LinearHook {
  const modules = loraModules(model, cfg);
  const scale = loraScaling(cfg);
  return (module: string, x: Sym, weight: Sym): Sym => {
    const base = linear(x, weight);
    const dims = modules.get(module);
    if (!dims) return base;
    const [outF, inF] = dims;
    const A = x.b.param(loraAName(module), [cfg.r, inF]);
    const B = x.b.param(loraBName(module), [outF, cfg.r]);
    const xd = withDropout && cfg.dropout > 0 ? x.mul(x.b.input(loraDropoutInput(module), x.shape)) : x;
    const delta = linear(linear(xd, A), B);
    // alpha = r (the demo's) gives scale 1: x * 1 is x exactly, so the multiply (and its backward) is left out.
    return base.add(scale === 1 ? delta : delta.mul(scale));
  };
}

/**
 * Inverted-dropout masks for every adapted module, drawn per step from the training RNG. The mask arrays are reused
 * from step to step (a step's masks are ~18 MB for the demo model at batch 16: allocating them fresh cost more than
 * drawing them), so the feeds of one `draw` are valid until the next `draw`. Deterministic: the same RNG state gives
 * the same masks, in module order, whatever was drawn before.
 */
export class DropoutMasks {
  private readonly modules: [string, number][];
  private readonly buffers = new Map<string, Float32Array>();

  constructor(
    model: LlamaConfig,
    private readonly cfg: LoraConfig,
  ) {
    this.modules = [...loraModules(model, cfg)].map(([module, [, inF]]) => [module, inF]);
  }

  /** Masks for a batch shape [B, T]: per module [B, T, in], entries 0 or 1/(1-p); none when dropout is 0. */
  draw(B: number, T: number, rng: SplitMix32): Record<string, HostTensor> {
    const feeds: Record<string, HostTensor> = {};
    if (this.cfg.dropout <= 0) return feeds;
    const keep = 1 / (1 - this.cfg.dropout);
    for (const [module, inF] of this.modules) {
      const n = B * T * inF;
      let buf = this.buffers.get(module);
      if (!buf || buf.length < n) {
        buf = new Float32Array(n);
        this.buffers.set(module, buf);
      }
      const data = buf.length === n ? buf : buf.subarray(0, n);
      rng.fillBernoulli(data, this.cfg.dropout, 0, keep);
      feeds[loraDropoutInput(module)] = { shape: [B, T, inF], data };
    }
    return feeds;
  }
}

/** W + sign * scale * B A for every adapted module, returning new base weights (inputs untouched). */
function applyDelta(base: Weights, adapter: Weights, model: LlamaConfig, cfg: LoraConfig, sign: 1 | -1): Weights {
  const out: Weights = new Map(base);
  const scale = loraScaling(cfg) * sign;
  for (const [module, [outF, inF]] of loraModules(model, cfg)) {
    const A = adapter.get(loraAName(module))?.data;
    const B = adapter.get(loraBName(module))?.data;
    if (!A || !B) throw new Error(`adapter has no weights for ${module}`);
    const Wt = base.get(`${module}.weight`);
    if (!Wt) throw new Error(`base model has no ${module}.weight`);
    const W = Float32Array.from(Wt.data);
    const r = cfg.r;
    for (let o = 0; o < outF; o++) {
      for (let k = 0; k < r; k++) {
        const b = B[o * r + k] * scale;
        if (b === 0) continue;
        const row = o * inF;
        const arow = k * inF;
        for (let i = 0; i < inF; i++) W[row + i] += b * A[arow + i];
      }
    }
    out.set(`${module}.weight`, { shape: [outF, inF], data: W });
  }
  return out;
}

export function mergeLora(base: Weights, adapter: Weights, model: LlamaConfig, cfg: LoraConfig): Weights {
  return applyDelta(base, adapter, model, cfg, 1);
}

export function unmergeLora(merged: Weights, adapter: Weights, model: LlamaConfig, cfg: LoraConfig): Weights {
  return applyDelta(merged, adapter, model, cfg, -1);
}
