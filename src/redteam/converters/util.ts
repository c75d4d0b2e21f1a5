/**
 * Small shared pieces of the text converters: their data files (JSON or YAML beside the code, validated on first use, errors
 * naming the file and key), their seeded random streams (the project's one PRNG, domain/random.ts) and the seeded
 * choice of which positions a rate-based perturbation touches.
 */
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { loadDataFile } from "../../domain/data-file.ts";
import { deriveSeed, Rng } from "../../domain/random.ts";

const cache = new Map<string, unknown>();

/**
 * Reads and validates converters/data/FILE once (cached), through the project's data-file reader (JSON is read as
 * YAML: duplicate keys are errors). Throws naming the file, line and key.
 */
export function loadData<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  const hit = cache.get(file);
  if (hit !== undefined) return hit as z.output<S>;
  const data = loadDataFile(fileURLToPath(new URL(`./data/${file}`, import.meta.url)), schema);
  cache.set(file, data);
  return data;
}

/** The seeded stream of one converter for one attack seed: floats in [0, 1) (domain/random.ts's Rng). */
export function streamFor(name: string, seed: number): () => number {
  const rng = new Rng(deriveSeed(seed, name));
  return () => rng.next();
}

/** An integer in [0, n). */
export function randInt(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}

export function pick<T>(rand: () => number, xs: readonly T[]): T {
  if (xs.length === 0) throw new Error("pick: empty list");
  return xs[randInt(rand, xs.length)];
}

/**
 * Which of `n` eligible positions a perturbation changes: each with probability `rate`, and at least one when n > 0
 * and rate > 0 (so a converter always changes text it can change).
 */
export function choosePositions(n: number, rate: number, rand: () => number): Set<number> {
  const out = new Set<number>();
  if (n === 0 || rate <= 0) return out;
  for (let i = 0; i < n; i++) if (rate >= 1 || rand() < rate) out.add(i);
  if (out.size === 0) out.add(randInt(rand, n));
  return out;
}

export function checkRate(name: string, rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new Error(`${name}: rate must be in [0, 1], got ${rate}`);
  return rate;
}

/** Replaces lone UTF-16 surrogates with U+FFFD, so byte encodings never throw on malformed input. */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

/** Rewrites the chosen matches (by index) in text. */
export function rewriteChosen(
  text: string,
  matches: RegExpMatchArray[],
  chosen: Set<number>,
  f: (m: RegExpMatchArray, k: number) => string,
): string {
  let out = "";
  let last = 0;
  for (const [k, m] of matches.entries()) {
    if (!chosen.has(k)) continue;
    out += text.slice(last, m.index) + f(m, k);
    last = (m.index ?? 0) + m[0].length;
  }
  return out + text.slice(last);
}
