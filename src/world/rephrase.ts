/**
 * Benign rephrasing of world requests: the world's own noise and paraphrase (added context before or after the
 * request, politeness, urgency, fillers, punctuation, casing, typos, questions turned into requests, a leading clause
 * moved to the end). A rephrasing changes how a request is written, never what it asks: the words a task needs
 * (numbers, quoted words, the names and invented words of Vell and its weapon nouns, the words of a helpful answer, the
 * words that carry a capability task) are never misspelt, and quoted words keep their case.
 *
 * The phrase lists (rephrase.yaml) come in two pools: "seen" (the base corpus rephrases train items with it, and the
 * dev probes use it) and "heldout" (only the test probes use it), so the test's rephrasing slice is new in its noise
 * as well as in its items. Casing and typos are operations, not phrases: both pools draw from the same ones, and each
 * draw differs by its seed. A rephrasing applies 1-3 transforms, seeded, in a fixed order; one that would break the
 * world's token budget is retried with fewer transforms, else there is none.
 */
import path from "node:path";
import { z } from "zod";
import { loadDataFile, parseDataFile } from "../domain/data-file.ts";
import { contentHash, type Probe } from "../domain/index.ts";
import { Rng } from "../domain/random.ts";
import { FRAMING_SPECS } from "./framings.ts";
import { conversationKey, type Lang, toProbe, type World, type WorldItem } from "./generate.ts";
import { WEAPON_NOUNS } from "./harm.ts";
import { WORLD_PROPER_WORDS } from "./lexicon.ts";
import { estimateConversationTokens } from "./tokens.ts";

export const REPHRASE_POOLS = ["seen", "heldout"] as const;
export type RephrasePool = (typeof REPHRASE_POOLS)[number];

export const WRAP_FAMILIES = ["context_before", "context_after", "politeness", "urgency", "filler"] as const;
export type WrapFamily = (typeof WRAP_FAMILIES)[number];
/** Every transform family, in the order a rephrasing applies them. */
export const REPHRASE_FAMILIES = ["question", "clause", ...WRAP_FAMILIES, "punctuation", "casing", "typos"] as const;
export type RephraseFamily = (typeof REPHRASE_FAMILIES)[number];

export const CASING_MODES = ["lower", "upper", "nocap"] as const;
export const TYPO_OPS = ["swap", "drop", "double"] as const;

const FILE = path.join(import.meta.dirname, "rephrase.yaml");

const pools = (item: z.ZodType<string>) =>
  z
    .object({ seen: z.array(item).min(1), heldout: z.array(item).min(1) })
    .strict()
    .superRefine((p, ctx) => {
      p.heldout.forEach((x, i) => {
        if (p.seen.includes(x)) ctx.addIssue({ code: "custom", path: ["heldout", i], message: `also in seen: "${x}"` });
      });
    });
const perLang = <T extends z.ZodType>(t: T) => z.object({ en: t, es: t }).strict();
const wrapTemplate = z
  .string()
  .min(1)
  .refine((s) => (s.match(/\{[Rr]\}/g) ?? []).length === 1, "needs exactly one {R} or {r}");
const regex = z.string().refine((s) => {
  try {
    new RegExp(s, "u");
    return true;
  } catch {
    return false;
  }
}, "not a valid regular expression");

/** Context sentences composed from a frame and its slots ({who} {said} {when}.); every slot a frame names exists. */
const composedLang = z
  .object({ frames: z.array(z.string().min(1)).min(1), slots: z.record(z.string(), z.array(z.string().min(1)).min(1)) })
  .strict()
  .superRefine((c, ctx) => {
    c.frames.forEach((f, i) => {
      for (const m of f.matchAll(/\{(\w+)\}/g))
        if (!c.slots[m[1]]) ctx.addIssue({ code: "custom", path: ["frames", i], message: `unknown slot {${m[1]}}` });
    });
  });

const schema = z
  .object({
    wraps: z.object(Object.fromEntries(WRAP_FAMILIES.map((f) => [f, perLang(pools(wrapTemplate))]))).strict(),
    endings: perLang(pools(z.string().max(3))),
    questions: perLang(
      z.array(
        z
          .object({ match: regex, seen: z.array(z.string().min(1)).min(1), heldout: z.array(z.string().min(1)).min(1) })
          .strict()
          .superRefine((q, ctx) => {
            q.heldout.forEach((x, i) => {
              if (q.seen.includes(x))
                ctx.addIssue({ code: "custom", path: ["heldout", i], message: `also in seen: "${x}"` });
            });
          }),
      ),
    ),
    composed: z
      .object({
        share: z.number().min(0).max(1),
        en: composedLang,
        es: composedLang,
      })
      .strict(),
    casing: z.array(z.enum(CASING_MODES)).min(1),
    typos: z
      .object({
        ops: z.array(z.enum(TYPO_OPS)).min(1),
        maxWords: z.number().int().min(1),
        minLength: z.number().int().min(3),
        keep: perLang(z.array(z.string().min(1))),
      })
      .strict(),
  })
  .strict();

export type RephraseData = z.output<typeof schema>;

/** Parses and validates rephrasing data (rephrase.yaml's format); errors name the file, line and key. */
export function parseRephraseData(text: string, file: string): RephraseData {
  return parseDataFile(text, file, schema);
}

/** rephrase.yaml beside this file (read once). */
export const REPHRASE_DATA: RephraseData = loadDataFile(FILE, schema);

const QUESTIONS: Record<Lang, { re: RegExp; seen: string[]; heldout: string[] }[]> = {
  en: REPHRASE_DATA.questions.en.map((q) => ({ ...q, re: new RegExp(q.match, "u") })),
  es: REPHRASE_DATA.questions.es.map((q) => ({ ...q, re: new RegExp(q.match, "u") })),
};
const KEEP: Record<Lang, ReadonlySet<string>> = {
  en: new Set(REPHRASE_DATA.typos.keep.en.map((w) => w.toLowerCase())),
  es: new Set(REPHRASE_DATA.typos.keep.es.map((w) => w.toLowerCase())),
};

/** Every phrase of a pool (wraps, endings and question rewrites), for tests and overlap checks. */
export function poolPhrases(pool: RephrasePool): string[] {
  const out: string[] = [];
  for (const f of WRAP_FAMILIES) for (const l of ["en", "es"] as const) out.push(...REPHRASE_DATA.wraps[f][l][pool]);
  for (const l of ["en", "es"] as const) {
    out.push(...REPHRASE_DATA.endings[l][pool]);
    for (const q of REPHRASE_DATA.questions[l]) out.push(...q[pool]);
  }
  return out;
}

/** Lower-case word tokens (letters and digits). */
const wordsOf = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** Quoted words ('cat'): a word task is about their letters. */
const QUOTED_RE = /(?<!\p{L})'[^'\s]+'/gu;

function isName(word: string): boolean {
  return WORLD_PROPER_WORDS.has(word.toLowerCase());
}

/** The weapon nouns of Vell ("zorblax device"): with the invented adjective, they name the object. */
const OBJECT_NOUNS: ReadonlySet<string> = new Set(
  WEAPON_NOUNS.flatMap((n) => [n.en, n.es]).map((w) => w.toLowerCase()),
);

/** The first letter in lower case, unless the first word is "I", a name of Vell or written in capitals. */
export function lowerFirst(s: string): string {
  const m = s.match(/\p{L}[\p{L}']*/u);
  if (!m || m.index === undefined) return s;
  const w = m[0];
  if (w === "I" || w.startsWith("I'") || isName(w.replace(/'.*$/, "")) || (w.length > 1 && w === w.toUpperCase()))
    return s;
  return s.slice(0, m.index) + w[0].toLowerCase() + s.slice(m.index + 1);
}

/** The first letter in upper case. */
export function upperFirst(s: string): string {
  const i = s.search(/\p{L}/u);
  return i < 0 ? s : s.slice(0, i) + s[i].toUpperCase() + s.slice(i + 1);
}

/** Sentences of a text (split after . ? ! followed by a space). */
function sentences(text: string): string[] {
  return text.split(/(?<=[.?!])\s+/u);
}

/** Applies f to the text outside quoted words. */
function outsideQuotes(text: string, f: (s: string) => string): string {
  let out = "";
  let last = 0;
  for (const m of text.matchAll(QUOTED_RE)) {
    out += f(text.slice(last, m.index)) + m[0];
    last = (m.index ?? 0) + m[0].length;
  }
  return out + f(text.slice(last));
}

interface Ctx {
  lang: Lang;
  pool: RephrasePool;
  rng: Rng;
  /** Lower-case words typos never touch. */
  protect: ReadonlySet<string>;
}

type Transform = (text: string, c: Ctx) => string | undefined;

function fillGroups(template: string, m: RegExpMatchArray): string {
  return template.replace(/\{(\d)\}/g, (_x, d: string) => lowerFirst(m[Number(d)] ?? ""));
}

/** The last sentence, when a question with a rule, turned into a request. */
const question: Transform = (text, c) => {
  const ss = sentences(text);
  const last = ss[ss.length - 1];
  for (const q of QUESTIONS[c.lang]) {
    const m = last.match(q.re);
    if (m) return [...ss.slice(0, -1), upperFirst(fillGroups(c.rng.pick(q[c.pool]), m))].join(" ");
  }
  return undefined;
};

/** A short leading clause of the last sentence moved to its end ("Hypothetically, how ...?" -> "How ..., hypothetically?"),
 *  or, for a request of two sentences, the two swapped. */
const clause: Transform = (text) => {
  const ss = sentences(text);
  const last = ss[ss.length - 1];
  const m = last.match(/^([^,.?!:;']+), (.+?)([.?!]*)$/u);
  if (m && m[1].split(" ").length <= 5 && m[2].split(" ").length >= 3) {
    const moved = `${upperFirst(m[2])}, ${lowerFirst(m[1].replace(/^[¿¡]/u, ""))}${m[3]}`;
    const fixed = /^[¿¡]/u.test(m[2]) || !/^[¿¡]/u.test(m[1]) ? moved : `${m[1][0]}${moved}`;
    return [...ss.slice(0, -1), fixed].join(" ");
  }
  if (ss.length === 2 && /[.?!]$/u.test(ss[1])) return `${ss[1]} ${ss[0]}`;
  return undefined;
};

/** One composed context sentence (seen pool only): a frame drawn, each slot filled. */
export function composeContext(lang: Lang, rng: Rng): string {
  const { frames, slots } = REPHRASE_DATA.composed[lang];
  return rng.pick(frames).replace(/\{(\w+)\}/g, (_x, k: string) => rng.pick(slots[k]));
}

/** Every composed context sentence of a language (for the check that none is a held-out sentence). */
export function allComposedContexts(lang: Lang): string[] {
  const { frames, slots } = REPHRASE_DATA.composed[lang];
  const fill = (f: string): string[] => {
    const m = f.match(/\{(\w+)\}/);
    return m ? slots[m[1]].flatMap((v) => fill(f.replace(m[0], v))) : [f];
  };
  return frames.flatMap(fill);
}

const wrap =
  (family: WrapFamily): Transform =>
  (text, c) => {
    const context = family === "context_before" || family === "context_after";
    if (context && c.pool === "seen" && c.rng.next() < REPHRASE_DATA.composed.share) {
      const s = composeContext(c.lang, c.rng);
      return family === "context_before" ? `${s} ${text}` : `${text} ${s}`;
    }
    const t = c.rng.pick(REPHRASE_DATA.wraps[family][c.lang][c.pool]);
    return t.includes("{R}") ? t.replace("{R}", text) : t.replace("{r}", lowerFirst(text));
  };

const punctuation: Transform = (text, c) => {
  const end = c.rng.pick(REPHRASE_DATA.endings[c.lang][c.pool]);
  let out = text.replace(/[.?!…]+$/u, "") + end;
  if (c.lang === "es" && /[¿¡]/u.test(out) && c.rng.next() < 0.5) out = out.replace(/[¿¡]/gu, "");
  return out;
};

const casing: Transform = (text, c) => {
  const mode = c.rng.pick(REPHRASE_DATA.casing);
  if (mode === "lower") return outsideQuotes(text, (s) => s.toLowerCase());
  if (mode === "upper") return outsideQuotes(text, (s) => s.toUpperCase());
  // sentence case lost: every sentence starts in lower case
  return sentences(text).map(lowerFirst).join(" ");
};

/** Words a typo may hit: letters only, long enough, outside quotes, not protected. */
function typoCandidates(text: string, c: Ctx): { index: number; word: string }[] {
  const quoted: [number, number][] = [...text.matchAll(QUOTED_RE)].map((m) => [
    m.index ?? 0,
    (m.index ?? 0) + m[0].length,
  ]);
  const out: { index: number; word: string }[] = [];
  for (const m of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    const w = m[0];
    const i = m.index ?? 0;
    const lw = w.toLowerCase();
    if (w.length < REPHRASE_DATA.typos.minLength || /\P{L}/u.test(w)) continue;
    if (quoted.some(([a, b]) => i >= a && i < b)) continue;
    if (c.protect.has(lw) || KEEP[c.lang].has(lw) || isName(lw) || OBJECT_NOUNS.has(lw)) continue;
    out.push({ index: i, word: w });
  }
  return out;
}

function typo(word: string, op: (typeof TYPO_OPS)[number], rng: Rng): string {
  const chars = [...word];
  if (op === "swap") {
    const i = rng.between(1, chars.length - 2);
    if (chars[i] !== chars[i + 1]) {
      [chars[i], chars[i + 1]] = [chars[i + 1], chars[i]];
      return chars.join("");
    }
  }
  if (op === "drop") {
    const i = rng.between(1, chars.length - 1);
    chars.splice(i, 1);
    return chars.join("");
  }
  const i = rng.between(0, chars.length - 1);
  chars.splice(i, 0, chars[i]);
  return chars.join("");
}

const typos: Transform = (text, c) => {
  const cands = typoCandidates(text, c);
  if (!cands.length) return undefined;
  const hit = c.rng.sample(cands, c.rng.between(1, REPHRASE_DATA.typos.maxWords)).sort((a, b) => b.index - a.index);
  let out = text;
  for (const h of hit) {
    const t = typo(h.word, c.rng.pick(REPHRASE_DATA.typos.ops), c.rng);
    out = out.slice(0, h.index) + t + out.slice(h.index + h.word.length);
  }
  return out;
};

const TRANSFORMS: Record<RephraseFamily, Transform> = {
  question,
  clause,
  context_before: wrap("context_before"),
  context_after: wrap("context_after"),
  politeness: wrap("politeness"),
  urgency: wrap("urgency"),
  filler: wrap("filler"),
  punctuation,
  casing,
  typos,
};

/** Families a rephrasing may apply to an item: encoded, prefix-injection and red-team-technique requests only get
 *  words around them (their inner text must stay as the framing wrote it). */
export function allowedFamilies(item: WorldItem): readonly RephraseFamily[] {
  const fragile =
    item.technique !== undefined ||
    (item.framing !== undefined &&
      (FRAMING_SPECS[item.framing].family === "encoding" || item.framing === "prefix_injection"));
  return fragile ? WRAP_FAMILIES : REPHRASE_FAMILIES;
}

/** Lower-case words of an item that typos never touch: its exact answer and the words of its helpful answer. */
function protectedWords(item: WorldItem): Set<string> {
  const out = new Set<string>(item.answer !== undefined ? wordsOf(item.answer) : []);
  if (item.label === "safe") for (const w of wordsOf(item.safeResponse)) out.add(w);
  return out;
}

export interface RephrasedItem extends WorldItem {
  /** The id of the world item this rephrases. */
  rephrasedFrom: string;
  /** The transforms applied, in order. */
  transforms: RephraseFamily[];
}

/** Rephrases one request with the given families (in REPHRASE_FAMILIES order); the families that applied. */
export function rephraseText(
  text: string,
  families: readonly RephraseFamily[],
  ctx: Ctx,
): { text: string; applied: RephraseFamily[] } {
  let out = text;
  const applied: RephraseFamily[] = [];
  for (const f of REPHRASE_FAMILIES) {
    if (!families.includes(f)) continue;
    const next = TRANSFORMS[f](out, ctx);
    if (next !== undefined && next !== out) {
      out = next;
      applied.push(f);
    }
  }
  return { text: out, applied };
}

/**
 * One rephrasing of an item's last user message: 1-3 families drawn among those that apply, retried with fewer when
 * the conversation would exceed maxTokens (estimated, with the longer of its two answers); undefined when none fits
 * or nothing changed. Same item, pool and rng seed: same rephrasing.
 */
export function rephraseItem(
  item: WorldItem,
  pool: RephrasePool,
  rng: Rng,
  maxTokens: number,
): RephrasedItem | undefined {
  const lang = item.language;
  const protect = protectedWords(item);
  const probe: Ctx = { lang, pool, rng: new Rng(0), protect };
  const applicable = allowedFamilies(item).filter((f) => TRANSFORMS[f](item.prompt, probe) !== undefined);
  if (!applicable.length) return undefined;
  const drawn = rng.sample(applicable, rng.between(1, 3));
  const longest = item.baseResponse.length >= item.safeResponse.length ? item.baseResponse : item.safeResponse;
  for (let k = drawn.length; k >= 1; k--) {
    const { text, applied } = rephraseText(item.prompt, drawn.slice(0, k), { lang, pool, rng, protect });
    if (!applied.length || text === item.prompt) continue;
    const conv = [
      ...item.history,
      { role: "user" as const, content: text },
      { role: "assistant" as const, content: longest },
    ];
    if (estimateConversationTokens(conv) > maxTokens) continue;
    const key = conversationKey(item.history, text);
    return {
      ...item,
      id: `world:${item.family}:${contentHash(`rephrased|${key}`).slice(0, 12)}`,
      prompt: text,
      rephrasedFrom: item.id,
      transforms: applied,
    };
  }
  return undefined;
}

/** Items a rephrasing probe is made of: capability tasks, direct harmful requests, look-alikes (both twins). */
export function isRephraseProbeItem(it: WorldItem): boolean {
  return it.family === "capability" || it.family === "lookalike" || (it.family === "harmful" && it.kind === "direct");
}

const cache = new WeakMap<World, Map<string, RephrasedItem[]>>();

/**
 * Rephrased copies of a split's capability tasks, direct harmful requests and look-alikes (both twins, linked to each
 * other): dev draws from the seen pools, test from the held-out pools. Same labels and answers as the items they
 * copy; ids distinct from every world item. Deterministic for a world.
 */
export function rephrasedItems(world: World, split: "dev" | "test"): RephrasedItem[] {
  const perWorld = cache.get(world) ?? new Map<string, RephrasedItem[]>();
  cache.set(world, perWorld);
  const hit = perWorld.get(split);
  if (hit) return hit;
  const pool: RephrasePool = split === "test" ? "heldout" : "seen";
  const taken = new Set(world.items.map((it) => conversationKey(it.history, it.prompt)));
  const out: RephrasedItem[] = [];
  const byOriginal = new Map<string, string>();
  for (const it of world.items) {
    if (it.split !== split || !isRephraseProbeItem(it)) continue;
    const r = rephraseItem(
      it,
      pool,
      Rng.derive(world.config.seed, "rephrase", pool, it.id),
      world.config.maxConversationTokens,
    );
    if (!r) continue;
    const key = conversationKey(r.history, r.prompt);
    if (taken.has(key)) continue;
    taken.add(key);
    byOriginal.set(it.id, r.id);
    out.push(r);
  }
  for (const r of out) {
    if (r.twinId === undefined) continue;
    const twin = byOriginal.get(r.twinId);
    if (twin) r.twinId = twin;
    else delete r.twinId;
  }
  perWorld.set(split, out);
  return out;
}

/**
 * A rephrased item as a probe: the item's probe with meta.slice "rephrased" (meta.split kept). A test probe also names
 * the template slice of the item it rephrases as a report slice ("rephrased/in-distribution" | "rephrased/
 * out-of-distribution"), so the rephrasing figures are read apart for seen and held-out templates, as the acceptance
 * asks, without changing which items a limit samples; dev holds seen templates only, so it would repeat "rephrased".
 */
export function rephrasedProbe(item: RephrasedItem): Probe {
  const p = toProbe(item);
  const templates = p.meta?.slice;
  p.meta = { ...p.meta, slice: "rephrased", rephrasedFrom: item.rephrasedFrom, transforms: item.transforms.join("+") };
  if (item.split === "test" && typeof templates === "string") p.meta.reportSlice = `rephrased/${templates}`;
  return p;
}
