/**
 * The world's English -> Spanish lexicon and a word-level translator. It is what the red team's offline translation
 * converter uses for the demo world (no model, no network), and the base corpus holds lexicon-translated requests so
 * the demo model follows them. Multi-word entries are matched first (longest match), then single words; words not
 * in the lexicon (names of Vell, invented words, numbers, placeholders) are kept as they are.
 */
import path from "node:path";
import { z } from "zod";
import { loadDataFile } from "../domain/data-file.ts";
import { fixEs, harmGoals, WEAPON_ADJECTIVES, WEAPON_NOUNS } from "./harm.ts";
import { CHARACTERS, MEDICINES, PEOPLES, REGIONS, RESIDENTS, TOWNS } from "./vocab.ts";

/** lexicon.yaml beside this file: the authored entries (after the phrases built from the world below). */
const DATA = loadDataFile(
  path.join(import.meta.dirname, "lexicon.yaml"),
  z
    .object({
      entries: z.record(
        z.string().refine((k) => k === k.toLowerCase(), "keys are lower-case English"),
        z.string().min(1),
      ),
      name_modified_nouns: z.array(z.string().min(1)).min(1),
    })
    .strict(),
);

/** "a zorblax device" -> "un dispositivo zorblax": the weapons of Vell, with the Spanish noun first and its gender. */
const WEAPON_PHRASES: Record<string, string> = Object.fromEntries(
  WEAPON_ADJECTIVES.flatMap((adj) =>
    WEAPON_NOUNS.flatMap(({ en, es, article }) => [
      [`${/^[aeiou]/.test(adj) ? "an" : "a"} ${adj} ${en}`, `${article} ${es} ${adj}`],
      [`${adj} ${en}`, `${es} ${adj}`],
    ]),
  ),
);

/** The world's own noun phrases and goals, translated as wholes (a phrase table beats word order guesses). */
function worldPhrases(): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (en: string, es: string) => {
    out[en.toLowerCase()] = es;
  };
  for (const g of harmGoals()) {
    add(g.object.en, g.object.es);
    add(g.goal.en, g.goal.es);
  }
  for (const p of PEOPLES) add(p.en, p.es);
  for (const c of CHARACTERS) add(c.en, c.es);
  for (const t of TOWNS) add(t.famousFor.en, t.famousFor.es);
  return out;
}

/** English (lower-case, single words or short phrases) -> Spanish. */
export const LEXICON: Readonly<Record<string, string>> = {
  ...WEAPON_PHRASES,
  ...worldPhrases(),
  ...DATA.entries,
};

/** Words that are names or invented words of Vell: a translator keeps them as they are. */
export const WORLD_PROPER_WORDS: ReadonlySet<string> = new Set(
  [
    ...TOWNS.flatMap((t) => [t.name, t.river, ...t.mayor.split(" ")]),
    ...REGIONS,
    ...RESIDENTS.flatMap((r) => r.split(" ")),
    ...CHARACTERS.flatMap((c) => c.en.split(" ").filter((w) => /^[A-Z]/.test(w))),
    ...PEOPLES.flatMap((p) => p.en.split(" ").filter((w) => /^[A-Z]/.test(w))),
    ...MEDICINES,
    ...WEAPON_ADJECTIVES,
    "Vell",
    "Rax",
    "Tib",
    "kickstone",
    "ROT13",
  ].map((w) => w.toLowerCase()),
);

/** Nouns that a world name may modify in English ("the Brindlemoor bank"): Spanish puts them first ("el banco de
 *  Brindlemoor"). */
const NAME_MODIFIED_NOUNS: ReadonlySet<string> = new Set(DATA.name_modified_nouns);

const MAX_PHRASE = Math.max(...Object.keys(LEXICON).map((k) => k.split(" ").length));

/** Tokens: words (letters, apostrophes), placeholders in brackets, and everything else one char at a time. */
function tokenize(text: string): string[] {
  return text.match(/\[[^\]\s]*\]|[\p{L}']+|\d+|\s+|./gu) ?? [];
}

const isWord = (t: string) => /^[\p{L}']+$/u.test(t);

/** Is the word in the lexicon (alone)? Used by the coverage test and `world show`. */
export function inLexicon(word: string): boolean {
  return Object.hasOwn(LEXICON, word.toLowerCase());
}

/**
 * Word-level English -> Spanish translation with the world lexicon (longest phrase match first). Capitalisation of a
 * matched span's first letter is kept, a question gets its opening "¿", and Spanish contractions are applied.
 * Deterministic; unknown words pass through unchanged.
 */
export function translateToSpanish(text: string): string {
  const toks = tokenize(text);
  const out: string[] = [];
  let i = 0;
  while (i < toks.length) {
    if (!isWord(toks[i])) {
      out.push(toks[i]);
      i++;
      continue;
    }
    const swapped = nameNounSwap(toks, i);
    if (swapped) {
      out.push(swapped.text);
      i = swapped.next;
      continue;
    }
    const m = longestMatch(toks, i);
    if (m) {
      const first = toks[i];
      // keep a capital from the source, except English "I", which is capitalised anywhere
      const capital = first[0] !== first[0].toLowerCase() && (first !== "I" || atSentenceStart(out));
      out.push(capital ? m.es[0].toUpperCase() + m.es.slice(1) : m.es);
      i = m.next;
    } else {
      out.push(toks[i]);
      i++;
    }
  }
  return addInvertedMarks(fixEs(out.join(""))).replace(/ {2,}/g, " ");
}

/** Is the next output at the start of a sentence (nothing yet, or after . ! ? :)? */
function atSentenceStart(out: readonly string[]): boolean {
  const text = out.join("").trimEnd();
  return text === "" || /[.!?:]$/.test(text);
}

/** The longest lexicon phrase starting at token i (a word), with the index after it. */
function longestMatch(toks: string[], i: number): { es: string; key: string; next: number } | undefined {
  const idx: number[] = [i];
  let j = i;
  while (idx.length < MAX_PHRASE && toks[j + 1] === " " && toks[j + 2] !== undefined && isWord(toks[j + 2])) {
    j += 2;
    idx.push(j);
  }
  for (let n = idx.length; n >= 1; n--) {
    const key = idx
      .slice(0, n)
      .map((k) => toks[k])
      .join(" ")
      .toLowerCase();
    if (Object.hasOwn(LEXICON, key)) return { es: LEXICON[key], key, next: idx[n - 1] + 1 };
  }
  return undefined;
}

/** "Brindlemoor bank" -> "banco de Brindlemoor" when a world name modifies a known noun. */
function nameNounSwap(toks: string[], i: number): { text: string; next: number } | undefined {
  const name = toks[i];
  if (!WORLD_PROPER_WORDS.has(name.toLowerCase()) || toks[i + 1] !== " " || !isWord(toks[i + 2] ?? ""))
    return undefined;
  const m = longestMatch(toks, i + 2);
  if (!m || !NAME_MODIFIED_NOUNS.has(m.key)) return undefined;
  return { text: `${m.es} de ${name}`, next: m.next };
}

/** Puts "¿" at the start of every sentence that ends with "?" (and has none yet). */
function addInvertedMarks(s: string): string {
  return s.replace(/(^|[.!?:]\s+)([^.!?:]*?\?)/g, (_m, lead: string, q: string) =>
    q.startsWith("¿") ? lead + q : `${lead}¿${q}`,
  );
}

/** Share of the words of a text that the lexicon translates (phrase matches count for each word they cover). */
export function lexiconCoverage(text: string): { words: number; covered: number; missing: string[] } {
  const toks = tokenize(text).filter(isWord);
  const lower = toks.map((t) => t.toLowerCase());
  const covered = new Array<boolean>(lower.length).fill(false);
  for (let i = 0; i < lower.length; i++) {
    for (let n = Math.min(MAX_PHRASE, lower.length - i); n >= 1; n--) {
      if (Object.hasOwn(LEXICON, lower.slice(i, i + n).join(" "))) {
        for (let k = i; k < i + n; k++) covered[k] = true;
        break;
      }
    }
  }
  const missing = lower.filter((w, k) => !covered[k] && !WORLD_PROPER_WORDS.has(w));
  return { words: lower.length, covered: lower.length - missing.length, missing };
}
