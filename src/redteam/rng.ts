/**
 * Seeded randomness for the red-team stage. Every random choice (which character to swap, where to split a payload,
 * which shots a many-shot framing uses) comes from a PRNG seeded from the attack's seed and the name of the step, so
 * an attack is reproducible from its record alone. Math.random is never used in src/redteam/.
 */
import { createHash } from "node:crypto";

/** A uint32 seed derived from a base seed and any labels (sha256 of their canonical string). */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  const h = createHash("sha256")
    .update(JSON.stringify([seed, ...labels]))
    .digest();
  return h.readUInt32LE(0);
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty array. */
  pick<T>(xs: readonly T[]): T;
  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(xs: readonly T[]): T[];
}

/** mulberry32: small, fast, good enough for choosing perturbations (not for cryptography). */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(next() * n);
  };
  return {
    next,
    int,
    pick<T>(xs: readonly T[]): T {
      if (xs.length === 0) throw new Error("rng.pick: empty array");
      return xs[int(xs.length)];
    },
    shuffle<T>(xs: readonly T[]): T[] {
      const out = xs.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
  };
}
