/**
 * Curation hygiene: exact and near-duplicate removal, and decontamination against benchmark probe sets.
 * Every removal is listed with its reason, so a dataset card can say what was dropped and why.
 */
import { containment, jaccard, LshIndex, minhash, ngrams, normalizeText, tokens } from "./ngrams.ts";

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
   * matched by its whole normalised text. A benchmark text shorter than decontamN words (4 words or more) is matched
   * by its own length (see ContaminationIndex).
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

/** Unicode tag characters: invisible, and each one a character of hidden ASCII text (tag smuggling). */
const TAG_CHARS = /[\u{E0000}-\u{E007F}]/u;

/**
 * What dedupe compares a text by: its normalised text and word n-grams; or, when normalising removes most of its
 * non-space characters (Morse code, emoji) or the text hides characters in Unicode tags, its raw text with whitespace
 * collapsed and the n-grams of its raw words (a run of tag characters split into characters), so different prompts
 * the normaliser reduces to the same words (or to nothing) stay apart.
 */
export function dedupKey(t: string, n: number): { key: string; grams: Set<string> } {
  const norm = normalizeText(t);
  const raw = t.replace(/\s+/gu, " ").trim();
  // Visible characters only: invisible format characters (zero-width noise) and combining marks are not content.
  const count = (x: string) => [...x.replace(/[\s\p{Cf}\p{M}]/gu, "")].length;
  if (count(norm) >= count(raw) / 2 && !TAG_CHARS.test(raw)) return { key: norm, grams: ngrams(t, n) };
  const words = raw.split(" ").flatMap((w) => (TAG_CHARS.test(w) ? [...w] : [w]));
  const grams = new Set<string>();
  if (words.length < n) grams.add(words.join(" "));
  else for (let i = 0; i + n <= words.length; i++) grams.add(words.slice(i, i + n).join(" "));
  return { key: `raw:${raw}`, grams };
}

/**
 * Removes exact duplicates (same normalised text) and near duplicates (n-gram Jaccard >= threshold) among rows;
 * keeps the first occurrence. text(row) gives the text to compare (e.g. the prompt side of a row).
 *
 * ask(row), when given, names the seed ask a row wraps (a finding's goal, normalised), or undefined when unknown.
 * Two rows with known, different asks are never near duplicates: text shared by construction (a many-shot framing's
 * fake exchanges, a long jailbreak template, an escalation script's opening turns) otherwise dominates their n-grams
 * (two different asks under the same 8 shots scored Jaccard 0.87, and one was dropped). Decision: compare the asks
 * rather than strip the shared text (the final user turn alone misses multi-turn rows whose last turn is generic,
 * "go on"; stripping turns other rows share misses a single-turn template), so wrappings of one ask are still compared
 * by their whole text (same ask, same framing: merged) and rows without an ask (counter-data, retention, a safety
 * set) exactly as before, against every row. Exact duplicates (same normalised text) are merged whatever their ask.
 */
export function dedupe<T>(
  rows: readonly T[],
  text: (row: T) => string,
  cfg: HygieneConfig = DEFAULT_HYGIENE,
  ask: (row: T) => string | undefined = () => undefined,
) {
  const kept: T[] = [];
  const removed: Removal<T>[] = [];
  const exact = new Map<string, number>();
  const rowsPerBand = cfg.numHashes / cfg.bands;
  const index = new LshIndex<number>(cfg.bands, rowsPerBand);
  const keptGrams: Set<string>[] = [];
  const keptAsks: (string | undefined)[] = [];
  for (const row of rows) {
    const { key, grams } = dedupKey(text(row), cfg.dedupN);
    const same = exact.get(key);
    if (same !== undefined) {
      removed.push({ row, reason: "exact_duplicate", matched: String(same), similarity: 1 });
      continue;
    }
    if (grams.size === 0) {
      // Nothing to compare (an empty text): never a near duplicate of another such row.
      kept.push(row);
      keptGrams.push(grams);
      keptAsks.push(ask(row));
      exact.set(key, kept.length - 1);
      continue;
    }
    const sig = minhash(grams, cfg.numHashes);
    const rowAsk = ask(row);
    let best = -1;
    let bestSim = 0;
    for (const c of index.candidates(sig)) {
      if (rowAsk !== undefined && keptAsks[c] !== undefined && keptAsks[c] !== rowAsk) continue;
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
    keptAsks.push(rowAsk);
    exact.set(key, id);
    index.add(id, sig);
  }
  return { kept, removed };
}

export interface ReferenceText {
  id: string;
  text: string;
}

/**
 * A benchmark text shorter than decontamN words but at least this long is matched by its own word count k: a row
 * that holds it as a run of k words is contaminated. Shorter texts match only a row that is the same text.
 */
export const SHORT_REFERENCE_MIN_WORDS = 4;

/** The distinct runs of k tokens, joined by a space (none when there are fewer than k tokens). */
function runsOf(t: readonly string[], k: number): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + k <= t.length; i++) out.add(t.slice(i, i + k).join(" "));
  return out;
}

/** Unicode tag characters that stand for printable ASCII (U+E0020..U+E007E): the "ASCII smuggling" block. */
const TAG_ASCII = /[\u{E0020}-\u{E007E}]/gu;
/** Invisible characters that carry no content: zero-width space and (non-)joiners, word joiner, soft hyphen, BOM... */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * What decontamination reads of a text (a benchmark text and a row alike): tag characters as the ASCII they hide
 * (present in the token stream, so trained on), other invisible characters removed. normalizeText turns each of
 * these into a word break, so one between every letter (a zero_width attack, or a soft hyphen or zero-width space in
 * text copied from a web page) split every word into letters, and no n-gram of the benchmark text was left to match.
 */
export function decontamView(text: string): string {
  return text.replace(TAG_ASCII, (c) => String.fromCharCode((c.codePointAt(0) ?? 0) - 0xe0000)).replace(INVISIBLE, "");
}

/**
 * An index of benchmark texts (every probe set the config reports) for decontamination. A row is contaminated when
 * the n-gram containment of a benchmark text in the row, or of the row in the benchmark text, reaches the threshold;
 * with `decontamBoilerplate` set, n-grams shared by more benchmark texts than that are left out of both counts.
 * A benchmark text shorter than n words (from SHORT_REFERENCE_MIN_WORDS up) is one gram of its own length k, found
 * in a row that holds it as a run of k words; it is boilerplate when more benchmark texts than that hold it so, and
 * is then matched whole, as any benchmark text made only of boilerplate is. Texts shorter still are matched whole.
 * Lookup goes through an inverted index of n-grams, so it is exact (no missed matches) and fast.
 */
export class ContaminationIndex {
  private readonly byGram = new Map<string, number[]>();
  private readonly grams: Set<string>[] = [];
  private readonly ids: string[] = [];
  /** Per benchmark text: its n-grams that are not boilerplate (all of them when the rule is off). */
  private readonly content: number[] = [];
  /** Normalised texts of benchmark texts matched whole: made only of boilerplate, or too short for a gram. */
  private readonly wholeText = new Map<string, string>();
  /** How many benchmark texts hold each short benchmark text as a run of its length (its boilerplate count). */
  private readonly shortHeldBy = new Map<string, number>();
  /** The word counts of the short benchmark texts, each searched for in a row as runs of that many words. */
  private readonly shortLengths: number[];
  private exactOnly = 0;

  constructor(
    references: Iterable<ReferenceText>,
    readonly cfg: HygieneConfig = DEFAULT_HYGIENE,
  ) {
    const norms: string[] = [];
    const toks: string[][] = [];
    const lengths = new Set<number>();
    for (const r of references) {
      const text = decontamView(r.text);
      const t = tokens(text);
      if (t.length === 0) continue;
      if (t.length < Math.min(cfg.decontamN, SHORT_REFERENCE_MIN_WORDS)) {
        const norm = normalizeText(text);
        if (!this.wholeText.has(norm)) this.wholeText.set(norm, r.id);
        this.exactOnly++;
        continue;
      }
      const g = t.length < cfg.decontamN ? new Set([t.join(" ")]) : runsOf(t, cfg.decontamN);
      if (t.length < cfg.decontamN) {
        lengths.add(t.length);
        this.shortHeldBy.set(t.join(" "), 0);
      }
      const i = this.grams.length;
      this.grams.push(g);
      this.ids.push(r.id);
      toks.push(t);
      norms.push(normalizeText(text));
      for (const x of g) {
        const list = this.byGram.get(x);
        if (list) list.push(i);
        else this.byGram.set(x, [i]);
      }
    }
    this.shortLengths = [...lengths].sort((a, b) => a - b);
    if (cfg.decontamBoilerplate > 0)
      for (const t of toks)
        for (const k of this.shortLengths)
          for (const run of runsOf(t, k)) {
            const n = this.shortHeldBy.get(run);
            if (n !== undefined) this.shortHeldBy.set(run, n + 1);
          }
    for (const [i, g] of this.grams.entries()) {
      let n = 0;
      for (const x of g) if (!this.isBoilerplate(x)) n++;
      this.content.push(n);
      if (n === 0 && !this.wholeText.has(norms[i])) this.wholeText.set(norms[i], this.ids[i]);
    }
  }

  private isBoilerplate(gram: string): boolean {
    const b = this.cfg.decontamBoilerplate;
    return b > 0 && (this.shortHeldBy.get(gram) ?? this.byGram.get(gram)?.length ?? 0) > b;
  }

  get size(): number {
    return this.grams.length + this.exactOnly;
  }

  /** The best-matching benchmark text for a row, or undefined when none reaches the threshold. */
  match(raw: string): { id: string; similarity: number } | undefined {
    const text = decontamView(raw);
    const whole = this.wholeText.size ? this.wholeText.get(normalizeText(text)) : undefined;
    if (whole !== undefined) return { id: whole, similarity: 1 };
    const t = tokens(text);
    let best: { id: string; similarity: number } | undefined;
    // Short benchmark texts: one held whole as a run of its own length is contained in full.
    for (const k of this.shortLengths) {
      if (k > t.length) break;
      for (const run of runsOf(t, k)) {
        if (this.isBoilerplate(run)) continue;
        const i = this.byGram.get(run)?.[0];
        if (i !== undefined) return { id: this.ids[i], similarity: 1 };
      }
    }
    if (t.length < this.cfg.decontamN) return best;
    const g = [...runsOf(t, this.cfg.decontamN)].filter((x) => !this.isBoilerplate(x));
    const hits = new Map<number, number>();
    for (const x of g) for (const i of this.byGram.get(x) ?? []) hits.set(i, (hits.get(i) ?? 0) + 1);
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
