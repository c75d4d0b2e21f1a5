import { createHash } from "node:crypto";

/** Canonical JSON: object keys sorted recursively, so equal values hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    }
    return v;
  });
}

/** Content hash (sha256 hex) of a JSON-serialisable value: the key of every record that costs model calls. */
export function contentHash(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

/** The multipliers of murmur3's 32-bit finalizer (`fmix32`), as int32. */
export const FMIX32_C1 = 0x85ebca6b | 0;
export const FMIX32_C2 = 0xc2b2ae35 | 0;

/**
 * murmur3's 32-bit finalizer (fmix32): an avalanche of the 32 bits of `h`, returned as an int32 (`>>> 0` for the
 * unsigned value). SplitMix32 mixes its counter with it (`random.ts`; `bernoulli.ts` writes it out in its hot loop
 * and encodes it in its SIMD kernel), and curation's MinHash (`curate/ngrams.ts`) finishes its string hashes with it.
 */
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), FMIX32_C1);
  h = Math.imul(h ^ (h >>> 13), FMIX32_C2);
  return h ^ (h >>> 16);
}
