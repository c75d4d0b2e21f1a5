/**
 * Curation hygiene: exact and near-duplicate removal, and decontamination against benchmark probe sets.
 * Every removal is listed with its reason, so a dataset card can say what was dropped and why.
 */
import { containment, jaccard, LshIndex, minhash, ngrams, normalizeText } from "./ngrams.ts";

export interface HygieneConfig {
  /** Word n-gram size for near-duplicate detection. */
  dedupN: number;
  /** Rows whose n-gram Jaccard similarity is >= this are near-duplicates (the later one is dropped). */
  dedupThreshold: number;
  /** Word n-gram size for decontamination (13 in GPT-3's report; shorter for short prompts). */
  decontamN: number;
  /** A row is contaminated when this share of a benchmark probe's n-grams appears in it (or vice versa). */
  decontamThreshold: number;
  /**
   * An n-gram found in more than this many benchmark texts is boilerplate (a framing, a template's wording) and does
   * not count as evidence that a row copies any one of them; 0 counts every n-gram. GPT-3's decontamination ignored
   * 13-grams found in more than 10 documents for the same reason. A benchmark text made only of boilerplate is
   * matched by its whole normalised text.
   */
  decontamBoilerplate: number;
  /** MinHash size; bands x rows must equal it. */
  numHashes: number;
  bands: number;
}

export const DEFAULT_HYGIENE: HygieneConfig = {
  dedupN: 3,
  dedupThreshold: 0.8,
  decontamN: 8,
  decontamThreshold: 0.5,
  decontamBoilerplate: 10,
  numHashes: 128,
  bands: 32,
};

export interface Removal<T> {
  row: T;
  reason: "exact_duplicate" | "near_duplicate" | "contaminated";
  /** What it matched: the kept row's index, or the benchmark probe's id. */
  matched: string;
  similarity: number;
}

/**
 * Removes exact duplicates (same normalised text) and near duplicates (n-gram Jaccard >= threshold) among rows;
 * keeps the first occurrence. text(row) gives the text to compare (e.g. the prompt side of a row).
 */
export function dedupe<T>(rows: readonly T[], text: (row: T) => string, cfg: HygieneConfig = DEFAULT_HYGIENE) {
  const kept: T[] = [];
  const removed: Removal<T>[] = [];
  const exact = new Map<string, number>();
  const rowsPerBand = cfg.numHashes / cfg.bands;
  const index = new LshIndex<number>(cfg.bands, rowsPerBand);
  const keptGrams: Set<string>[] = [];
  for (const row of rows) {
    const t = text(row);
    const norm = normalizeText(t);
    const same = exact.get(norm);
    if (same !== undefined) {
      removed.push({ row, reason: "exact_duplicate", matched: String(same), similarity: 1 });
      continue;
    }
    const grams = ngrams(t, cfg.dedupN);
    const sig = minhash(grams, cfg.numHashes);
    let best = -1;
    let bestSim = 0;
    for (const c of index.candidates(sig)) {
      const s = jaccard(grams, keptGrams[c]);
      if (s > bestSim) {
        bestSim = s;
        best = c;
      }
    }
    if (best >= 0 && bestSim >= cfg.dedupThreshold) {
      removed.push({ row, reason: "near_duplicate", matched: String(best), similarity: bestSim });
      continue;
    }
    const id = kept.length;
    kept.push(row);
    keptGrams.push(grams);
    exact.set(norm, id);
    index.add(id, sig);
  }
  return { kept, removed };
}

export interface ReferenceText {
  id: string;
  text: string;
}

/**
 * An index of benchmark texts (every probe set the config reports) for decontamination. A row is contaminated when
 * the n-gram containment of a benchmark text in the row, or of the row in the benchmark text, reaches the threshold;
 * with `decontamBoilerplate` set, n-grams shared by more benchmark texts than that are left out of both counts.
 * Lookup goes through an inverted index of n-grams, so it is exact (no missed matches) and fast.
 */
export class ContaminationIndex {
  private readonly byGram = new Map<string, number[]>();
  private readonly grams: Set<string>[] = [];
  private readonly ids: string[] = [];
  /** Per benchmark text: its n-grams that are not boilerplate (all of them when the rule is off). */
  private readonly content: number[] = [];
  /** Normalised texts of benchmark texts made only of boilerplate, matched whole. */
  private readonly wholeText = new Map<string, string>();

  constructor(
    references: Iterable<ReferenceText>,
    readonly cfg: HygieneConfig = DEFAULT_HYGIENE,
  ) {
    const norms: string[] = [];
    for (const r of references) {
      const g = ngrams(r.text, cfg.decontamN);
      if (g.size === 0) continue;
      const i = this.grams.length;
      this.grams.push(g);
      this.ids.push(r.id);
      if (cfg.decontamBoilerplate > 0) norms.push(normalizeText(r.text));
      for (const x of g) {
        const list = this.byGram.get(x);
        if (list) list.push(i);
        else this.byGram.set(x, [i]);
      }
    }
    for (const [i, g] of this.grams.entries()) {
      let n = 0;
      for (const x of g) if (!this.isBoilerplate(x)) n++;
      this.content.push(n);
      if (n === 0) this.wholeText.set(norms[i], this.ids[i]);
    }
  }

  private isBoilerplate(gram: string): boolean {
    const b = this.cfg.decontamBoilerplate;
    return b > 0 && (this.byGram.get(gram)?.length ?? 0) > b;
  }

  get size(): number {
    return this.grams.length;
  }

  /** The best-matching benchmark text for a row, or undefined when none reaches the threshold. */
  match(text: string): { id: string; similarity: number } | undefined {
    const whole = this.wholeText.size ? this.wholeText.get(normalizeText(text)) : undefined;
    if (whole !== undefined) return { id: whole, similarity: 1 };
    const g = [...ngrams(text, this.cfg.decontamN)].filter((x) => !this.isBoilerplate(x));
    const hits = new Map<number, number>();
    for (const x of g) for (const i of this.byGram.get(x) ?? []) hits.set(i, (hits.get(i) ?? 0) + 1);
    let best: { id: string; similarity: number } | undefined;
    for (const [i, shared] of hits) {
      const sim = Math.max(shared / this.content[i], g.length ? shared / g.length : 0);
      if (sim >= this.cfg.decontamThreshold && (!best || sim > best.similarity))
        best = { id: this.ids[i], similarity: sim };
    }
    return best;
  }
}

/** Splits rows into kept and contaminated (each contaminated row listed with the benchmark text it matched). */
export function decontaminate<T>(rows: readonly T[], texts: (row: T) => string[], index: ContaminationIndex) {
  const kept: T[] = [];
  const removed: Removal<T>[] = [];
  for (const row of rows) {
    let hit: { id: string; similarity: number } | undefined;
    for (const t of texts(row)) {
      const m = index.match(t);
      if (m && (!hit || m.similarity > hit.similarity)) hit = m;
    }
    if (hit) removed.push({ row, reason: "contaminated", matched: hit.id, similarity: hit.similarity });
    else kept.push(row);
  }
  return { kept, removed };
}

/** Checks containment of one text's n-grams in another's: exported for independent checks in tests. */
export function ngramContainment(a: string, b: string, n: number): number {
  return containment(ngrams(a, n), ngrams(b, n));
}
