/**
 * Text similarity for curation hygiene: normalisation, word n-grams, Jaccard similarity, MinHash signatures and
 * LSH banding for near-duplicate search in sub-quadratic time.
 */

import { fmix32 } from "../domain/hash.ts";

/** Lower-cases, strips accents and punctuation, collapses whitespace. Works for any script (Unicode letters kept). */
export function normalizeText(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** Word tokens of the normalised text; scripts without spaces (CJK, Thai) fall back to characters. */
export function tokens(text: string): string[] {
  const norm = normalizeText(text);
  if (norm === "") return [];
  const words = norm.split(" ");
  // A long "word" in a script written without spaces is split into characters so n-grams still mean something.
  return words.flatMap((w) =>
    /[\p{Script=Han}\p{Script=Thai}\p{Script=Hiragana}\p{Script=Katakana}]/u.test(w) ? [...w] : [w],
  );
}

/** The set of word n-grams (joined by a space). Texts shorter than n give their one whole-text gram. */
export function ngrams(text: string, n: number): Set<string> {
  const t = tokens(text);
  const out = new Set<string>();
  if (t.length === 0) return out;
  if (t.length < n) {
    out.add(t.join(" "));
    return out;
  }
  for (let i = 0; i + n <= t.length; i++) out.add(t.slice(i, i + n).join(" "));
  return out;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (large.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/** Share of a's n-grams that also occur in b (containment): catches a benchmark prompt embedded in a longer row. */
export function containment(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0) return 0;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / a.size;
}

/** 32-bit FNV-1a hash of a string with a seed mixed in. */
function hash32(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Final avalanche (murmur3 fmix32) so nearby seeds give independent permutations.
  return fmix32(h | 0) >>> 0;
}

/** MinHash signature with numHashes independent hash functions. */
export function minhash(grams: ReadonlySet<string>, numHashes: number): Uint32Array {
  const sig = new Uint32Array(numHashes).fill(0xffffffff);
  for (const g of grams) {
    for (let k = 0; k < numHashes; k++) {
      const h = hash32(g, k * 0x9e3779b1);
      if (h < sig[k]) sig[k] = h;
    }
  }
  return sig;
}

/**
 * LSH index over MinHash signatures split into bands of `rows` rows: two items that share any whole band are
 * candidates. With b bands of r rows, a pair with Jaccard s becomes a candidate with probability 1 - (1 - s^r)^b.
 * Candidates are then verified with exact Jaccard, so the index only affects speed, never correctness of a match.
 */
export class LshIndex<K> {
  private readonly buckets = new Map<string, K[]>();
  constructor(
    readonly bands: number,
    readonly rows: number,
  ) {}

  private keys(sig: Uint32Array): string[] {
    const out: string[] = [];
    for (let b = 0; b < this.bands; b++) {
      out.push(`${b}:${Array.from(sig.subarray(b * this.rows, (b + 1) * this.rows)).join(",")}`);
    }
    return out;
  }

  add(key: K, sig: Uint32Array): void {
    for (const k of this.keys(sig)) {
      const list = this.buckets.get(k);
      if (list) list.push(key);
      else this.buckets.set(k, [key]);
    }
  }

  candidates(sig: Uint32Array): Set<K> {
    const out = new Set<K>();
    for (const k of this.keys(sig)) for (const x of this.buckets.get(k) ?? []) out.add(x);
    return out;
  }
}
