/**
 * AdamW (decoupled weight decay, PyTorch semantics and operation order) with a per-parameter weight-decay mask,
 * global-norm gradient clipping (torch.nn.utils.clip_grad_norm_), and state save/restore as safetensors.
 */

import type { HostTensor } from "./ir.ts";
import { readSafetensorsFile, writeSafetensorsFile } from "./safetensors.ts";

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** which parameters get weight decay; default: matrices (rank >= 2), not norms or biases */
  decay?: (name: string, shape: readonly number[]) => boolean;
}

export const defaultDecay = (_name: string, shape: readonly number[]): boolean => shape.length >= 2;

/** Scale grads in place so their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(grads: Map<string, Float32Array>, maxNorm: number): number {
  let sq = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  const norm = Math.sqrt(sq);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  if (coef < 1) for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return norm;
}

export class AdamW {
  readonly opts: Required<Omit<AdamWOptions, "decay">>;
  private readonly decay: (name: string, shape: readonly number[]) => boolean;
  step = 0;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();

  constructor(opts: AdamWOptions) {
    this.opts = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, ...opts };
    delete (this.opts as Partial<AdamWOptions>).decay;
    this.decay = opts.decay ?? defaultDecay;
  }

  /** Update `weights` in place from `grads` (parameters without a gradient are left alone). */
  update(weights: Map<string, HostTensor>, grads: Map<string, Float32Array>, lr = this.opts.lr): void {
    this.step++;
    const { beta1, beta2, eps, weightDecay } = this.opts;
    const bc1 = 1 - beta1 ** this.step;
    const bc2sqrt = Math.sqrt(1 - beta2 ** this.step);
    const stepSize = lr / bc1;
    for (const [name, g] of grads) {
      const w = weights.get(name);
      if (!w) throw new Error(`AdamW: gradient for unknown parameter "${name}"`);
      const p = w.data as Float32Array;
      if (p.length !== g.length) throw new Error(`AdamW: "${name}" has ${p.length} values, gradient ${g.length}`);
      let m = this.m.get(name);
      let v = this.v.get(name);
      if (!m || !v) {
        m = new Float32Array(p.length);
        v = new Float32Array(p.length);
        this.m.set(name, m);
        this.v.set(name, v);
      }
      const wd = this.decay(name, w.shape) ? Math.fround(1 - lr * weightDecay) : 1;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        if (wd !== 1) p[i] = Math.fround(p[i] * wd);
        m[i] = Math.fround(m[i] * beta1) + Math.fround((1 - beta1) * gi);
        v[i] = Math.fround(v[i] * beta2) + Math.fround((1 - beta2) * gi * gi);
        const denom = Math.fround(Math.fround(Math.sqrt(v[i]) / bc2sqrt) + eps);
        p[i] = p[i] - Math.fround(stepSize * Math.fround(m[i] / denom));
      }
    }
  }

  /** The state as tensors + metadata (what `save` writes). */
  stateTensors(): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
    const tensors = new Map<string, HostTensor>();
    for (const [n, m] of this.m) {
      tensors.set(`exp_avg.${n}`, { shape: [m.length], data: m });
      tensors.set(`exp_avg_sq.${n}`, { shape: [m.length], data: this.v.get(n)! });
    }
    return { tensors, metadata: { step: String(this.step), options: JSON.stringify(this.opts) } };
  }

  /** Write the state to one safetensors file (atomically). */
  save(path: string): void {
    const { tensors, metadata } = this.stateTensors();
    writeSafetensorsFile(path, tensors, "F32", metadata);
  }

  /** Restore a state written by `save`; `decay` is code, so pass it again if it was not the default. */
  static load(path: string, decay?: AdamWOptions["decay"]): AdamW {
    const { tensors, metadata } = readSafetensorsFile(path);
    let opts: AdamWOptions;
    try {
      opts = JSON.parse(metadata.options ?? "");
    } catch {
      throw new Error(`${path}: missing or bad "options" metadata`);
    }
    const opt = new AdamW({ ...opts, decay });
    const step = Number(metadata.step);
    if (!Number.isInteger(step) || step < 0) throw new Error(`${path}: bad "step" metadata ${metadata.step}`);
    opt.step = step;
    for (const [key, t] of tensors) {
      if (key.startsWith("exp_avg_sq.")) opt.v.set(key.slice(11), t.data as Float32Array);
      else if (key.startsWith("exp_avg.")) opt.m.set(key.slice(8), t.data as Float32Array);
      else throw new Error(`${path}: unexpected tensor "${key}"`);
    }
    for (const n of opt.m.keys()) if (!opt.v.has(n)) throw new Error(`${path}: exp_avg_sq missing for "${n}"`);
    return opt;
  }
}
