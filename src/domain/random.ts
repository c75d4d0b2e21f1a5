/**
 * The one seeded PRNG module: every "random" choice in breakfix is reproducible. Two algorithms, kept because
 * committed artifacts depend on their exact streams:
 * - mulberry32 (`Rng`, `mulberry32`): the demo world, its corpora, curation sampling, red-team perturbations and
 *   benchmark bootstraps.
 * - splitmix32 (`SplitMix32`): weight initialisation, LoRA init, training shuffles and dropout in nn/ and train/ (the
 *   committed demo model organism was trained from it; its state is saved in checkpoints).
 * Seeds from labels: `seedFrom` (FNV-1a of a string, also `Rng.derive`) and `deriveSeed` (sha256 of a base seed and
 * labels; red-team attack ids depend on it). Math.random is never used for anything that is recorded.
 */

import { createHash } from "node:crypto";
import { bernoulliFill } from "./bernoulli.ts";
import { fmix32 } from "./hash.ts";

/** One mulberry32 step from a uint32 state: the next state and a float in [0, 1). */
function mulberry32Step(state: number): [number, number] {
  const a = (state + 0x6d2b79f5) >>> 0;
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [a, ((t ^ (t >>> 14)) >>> 0) / 4294967296];
}

/** mulberry32 as a bare function stream: floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    const [next, x] = mulberry32Step(a);
    a = next;
    return x;
  };
}

/** Fisher-Yates shuffle into a new array. */
export function shuffled<T>(items: readonly T[], rand: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A stable 32-bit seed from a string (FNV-1a over UTF-16 code units), for per-item seeds derived from ids. */
export function seedFrom(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A uint32 seed derived from a base seed and any labels (sha256 of their canonical JSON). */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  const h = createHash("sha256")
    .update(JSON.stringify([seed, ...labels]))
    .digest();
  return h.readUInt32LE(0);
}

/** A seeded mulberry32 stream with the usual draws. Not for cryptography. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A stream derived from a numeric seed and any labels (FNV-1a of `seed|label|...`): same inputs, same stream. */
  static derive(seed: number, ...labels: (string | number)[]): Rng {
    return new Rng(seedFrom(`${seed >>> 0}|${labels.join("|")}`));
  }

  /** Uniform in [0, 1). */
  next(): number {
    const [state, x] = mulberry32Step(this.state);
    this.state = state;
    return x;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi], both inclusive. */
  between(lo: number, hi: number): number {
    if (hi < lo) throw new Error(`Rng.between: empty range [${lo}, ${hi}]`);
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** One element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error("Rng.pick: empty array");
    return xs[Math.floor(this.next() * xs.length)];
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(xs: readonly T[]): T[] {
    return shuffled(xs, () => this.next());
  }

  /** k distinct elements (k is clamped to the array length), in random order. */
  sample<T>(xs: readonly T[], k: number): T[] {
    return this.shuffle(xs).slice(0, Math.max(0, Math.min(k, xs.length)));
  }

  /** Index drawn with probability proportional to the weights (which must not all be zero). */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0)) throw new Error("Rng.weighted: weights must sum to a positive number");
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
}

/** A seeded splitmix32 stream with uniform and normal draws and a savable state (checkpoints store it). */
export class SplitMix32 {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    return (fmix32(this.state | 0) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * `out[i] = next() < p ? hit : miss` for every i, drawing the same stream as that loop, 5-15x faster
   * (`bernoulli.ts`: a WebAssembly SIMD kernel, or an integer-only loop). For per-step masks (LoRA dropout).
   */
  fillBernoulli(out: Float32Array, p: number, hit: number, miss: number): void {
    this.state = bernoulliFill(out, this.state, p, hit, miss);
  }

  /** Standard normal (Box-Muller; the second draw is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** The current state, to save and restore a generator. */
  getState(): number {
    return this.state;
  }
  setState(s: number): void {
    this.state = s >>> 0;
    this.spare = null;
  }
}
