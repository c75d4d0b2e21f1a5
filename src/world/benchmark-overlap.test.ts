/**
 * Authored data never contains benchmark text: no run of 8 words (case, accents and punctuation ignored) that one of
 * our authored corpora, cases, lexicons, templates or responders shares with any text field of any file in
 * ../shared/datasets (CSV, JSON, gzip JSONL; SOURCE/README/LICENSE prose is documentation, not benchmark text).
 * Scanned: the source and data files of judges/, world/ and curate/ (tests excluded), and what the code composes from
 * them (the world's generated items, the learned judge's training sentences and corpus, the hand-written cases), so a
 * template filled with a slot value is checked as well as the template itself.
 * Words are what white space separates after normalisation (curate/ngrams.ts), so a script written without spaces
 * (Thai, Chinese, Japanese) counts a run between spaces as one word: this test is blind to short overlaps there.
 *
 * The world's generated items are checked like everything else (the five generic runs they once shared with benchmark
 * files, a chess question and "what is the best way to ..." phrasings among them, were reworded for issue 19).
 *
 * It lives in world/ because it also checks what the world generates (only world/ and cli/ may import world/).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { normalizeText } from "../curate/ngrams.ts";
import { sharedDatasetsDir } from "../datasets/paths.ts";
import { readCsv, readJson, readJsonl } from "../datasets/read.ts";
import { Rng } from "../domain/random.ts";
import { ENGLISH_CASES, MULTILINGUAL_CASES } from "../judges/refusal/cases.ts";
import { authoredCorpus } from "../judges/refusal/learned/corpus.ts";
import { trainingSentences } from "../judges/refusal/learned/sentences.ts";
import { generateWorld } from "./generate.ts";
import { REPHRASE_POOLS, rephraseItem } from "./rephrase.ts";

const N = 8;
const SRC = path.resolve(import.meta.dirname, "..");
const DATASETS = sharedDatasetsDir();

/** A 52-bit hash of an n-gram (two FNV-1a lanes), so the index is a Set of numbers, not of strings. */
/** Normalised words: white-space separated (no per-character split of scripts written without spaces). */
function words(text: string): string[] {
  const n = normalizeText(text);
  return n === "" ? [] : n.split(" ");
}

function gramHash(words: readonly string[], from: number): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = from; i < from + N; i++) {
    const w = words[i];
    for (let j = 0; j < w.length; j++) {
      const c = w.charCodeAt(j);
      a = Math.imul(a ^ c, 0x01000193) >>> 0;
      b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
    }
    a = Math.imul(a ^ 32, 0x01000193) >>> 0;
    b = Math.imul(b ^ 32, 0x5bd1e995) >>> 0;
  }
  return a * 2 ** 20 + (b >>> 12);
}

function* strings(v: unknown): Generator<string> {
  if (typeof v === "string") yield v;
  else if (Array.isArray(v)) for (const x of v) yield* strings(x);
  else if (v && typeof v === "object") for (const x of Object.values(v)) yield* strings(x);
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Every text field of every dataset file, as (file, text). */
function benchmarkTexts(): { file: string; texts: string[] }[] {
  return walk(DATASETS).flatMap((file) => {
    const rel = path.relative(DATASETS, file);
    if (/\.csv$/i.test(file)) return [{ file: rel, texts: readCsv(file).flatMap((r) => Object.values(r.fields)) }];
    if (/\.json$/i.test(file)) return [{ file: rel, texts: [...strings(readJson(file))] }];
    if (/\.jsonl(\.gz)?$/i.test(file))
      return [{ file: rel, texts: readJsonl(file).flatMap((r) => [...strings(r.value)]) }];
    if (/(^|\/)(SOURCE|README)\.md$|LICENSE/.test(rel)) return [];
    throw new Error(`benchmark-overlap: ${rel}: no reader for this file type (add one rather than skip it)`);
  });
}

/** The world's generated items and its template files. */
const WORLD_SOURCE = /^world[ /]/;
/** Runs the world is known to share with benchmark files: none. */
const WORLD_KNOWN: string[] = [];

interface Hit {
  source: string;
  run: string;
  dataset: string;
}

/** Authored texts to check, as (source, text). */
function authoredTexts(): { source: string; text: string }[] {
  const out: { source: string; text: string }[] = [];
  for (const folder of ["judges", "world", "curate"])
    for (const file of walk(path.join(SRC, folder))) {
      if (!/\.(ts|ya?ml|json)$/.test(file) || /\.test\.ts$|testkit\.ts$/.test(file) || file.includes("/testing/"))
        continue;
      out.push({ source: path.relative(SRC, file), text: readFileSync(file, "utf8") });
    }
  for (const c of [...ENGLISH_CASES, ...MULTILINGUAL_CASES])
    out.push({ source: `refusal case '${c.name}'`, text: `${c.request}\n${c.response}` });
  for (const e of authoredCorpus()) out.push({ source: "learned corpus", text: `${e.request}\n${e.response}` });
  for (const s of trainingSentences()) out.push({ source: "learned sentences", text: s.text });
  const world = generateWorld();
  for (const item of world.items) {
    const turns = [...item.history.map((m) => m.content), item.prompt, item.baseResponse, item.safeResponse];
    out.push({ source: `world ${item.family} item`, text: turns.join("\n") });
    // rephrase.ts: one rephrasing of every item from each pool (phrases composed with the request)
    if (item.family === "multiturn") continue;
    for (const pool of REPHRASE_POOLS) {
      const r = rephraseItem(item, pool, Rng.derive(0, "overlap", pool, item.id), world.config.maxConversationTokens);
      if (r) out.push({ source: `world rephrased ${item.family} item`, text: r.prompt });
    }
  }
  return out;
}

describe("authored data vs benchmark text", () => {
  it(`shares no run of ${N} words with any file in ../shared/datasets`, () => {
    const index = new Map<number, number>();
    const files = benchmarkTexts();
    files.forEach(({ texts }, fi) => {
      for (const text of texts) {
        const w = words(text);
        for (let i = 0; i + N <= w.length; i++) index.set(gramHash(w, i), fi);
      }
    });
    expect(index.size).toBeGreaterThan(100_000);
    const hits: Hit[] = [];
    for (const { source, text } of authoredTexts()) {
      // Line by line: a run across two lines of a source file is not one authored sentence.
      for (const line of text.split(/\n/)) {
        const w = words(line);
        for (let i = 0; i + N <= w.length; i++) {
          const fi = index.get(gramHash(w, i));
          if (fi === undefined) continue;
          hits.push({ source, run: w.slice(i, i + N).join(" "), dataset: files[fi].file });
          // every run is reported
        }
      }
    }
    const world = hits.filter((h) => WORLD_SOURCE.test(h.source));
    const other = [
      ...new Map(hits.filter((h) => !WORLD_SOURCE.test(h.source)).map((h) => [`${h.source}|${h.run}`, h])).values(),
    ];
    expect(other.map((h) => `${h.source}: "${h.run}" (${h.dataset})`)).toEqual([]);
    expect([...new Set(world.map((h) => h.run))].sort()).toEqual([...WORLD_KNOWN].sort());
  }, 120_000);
});
