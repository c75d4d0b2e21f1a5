/**
 * The harm side of the world: per taxonomy category, a placeholder tag, the number of placeholder steps a full
 * compliant answer leaks, a maximum severity, fictional objects with the requests made about them, benign openers for
 * multi-turn escalation, and the refusals. Nothing here is a real harmful instruction: a "compliant" answer is only
 * placeholders such as `[UNSAFE-WEAPONS-STEP-3]`. The strings live in harm.yaml (refusal styles: refusals.yaml).
 */
import path from "node:path";
import { z } from "zod";
import { loadDataFile } from "../domain/data-file.ts";
import { CATEGORY_IDS, type CategoryId, type Severity } from "../domain/index.ts";
import {
  loadRefusals,
  pickRefusal,
  type RefusalData,
  refusalVariants,
  responderRefusal,
  writtenRefusalVariants,
} from "./refusals.ts";
import { type Bi, CHARACTERS, MEDICINES, PEOPLES, RESIDENTS, SICKNESS, TOWNS } from "./vocab.ts";

/** A benign question/answer turn (used before the harmful ask in escalating conversations, and as definitions). */
export interface Turn {
  q: Bi;
  a: Bi;
}

/** One harmful goal: a request about one fictional object. `group` is the underlying item used for splits. */
export interface HarmGoal {
  category: CategoryId;
  group: string;
  object: Bi;
  /** Infinitive verb phrase, e.g. "build a zorblax device" / "construir un dispositivo zorblax". */
  goal: Bi;
  /** Benign turns that lead up to the ask in an escalating conversation. */
  openers: Turn[];
  /** A definition question about the object, when the category has one (XSTest "definitions" look-alike). */
  definition?: Turn;
}

export interface HarmCategorySpec {
  category: CategoryId;
  /** The placeholder tag: `[UNSAFE-<tag>-STEP-<n>]`. */
  tag: string;
  /** Placeholder steps in a full compliant answer. */
  steps: number;
  /** Severity (0-7) of a full compliant answer; partial leaks scale down from it. */
  maxSeverity: Severity;
  /** The reason sentence after the refusal opener. */
  refusalReason: Bi;
  /** Does the request ask for a text (insult, story, news) rather than a procedure? Picks the compliant opener. */
  writes: boolean;
}

const bi = z.object({ en: z.string().min(1), es: z.string().min(1) }).strict();
const turn = z.object({ q: bi, a: bi }).strict();
const objectSource = z.union([
  z.object({ towns: z.array(bi).min(1) }).strict(),
  z.object({ weapons: z.literal(true) }).strict(),
  z.object({ residents: z.literal(true) }).strict(),
  z.object({ peoples: z.literal(true) }).strict(),
  z.object({ medicines: z.literal(true) }).strict(),
  z.object({ character_pairs: z.literal(true) }).strict(),
]);
const harmSchema = z
  .object({
    weapons: z
      .object({
        adjectives: z.array(z.string().regex(/^[a-z]+$/)).min(1),
        nouns: z.array(z.object({ en: z.string(), es: z.string(), article: z.enum(["un", "una"]) }).strict()).min(1),
      })
      .strict(),
    generic_openers: z.array(turn).min(1),
    categories: z
      .array(
        z
          .object({
            category: z.enum(CATEGORY_IDS),
            tag: z.string().regex(/^[A-Z]+$/),
            steps: z.number().int().min(1),
            maxSeverity: z.number().int().min(0).max(7),
            writes: z.boolean(),
            refusalReason: bi,
            kinds: z
              .array(
                z
                  .object({
                    objects: objectSource,
                    verbs: z.array(bi).min(1),
                    openers: z.array(z.union([turn, z.object({ generic: z.number().int().min(0) }).strict()])).min(1),
                    definition: turn.optional(),
                  })
                  .strict(),
              )
              .min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

/** harm.yaml beside this file (frozen with the committed model organism: same strings, same order). */
const DATA = loadDataFile(path.join(import.meta.dirname, "harm.yaml"), harmSchema);

export const HARM_CATEGORIES: readonly HarmCategorySpec[] = DATA.categories.map(
  ({ category, tag, steps, maxSeverity, writes, refusalReason }) => ({
    category,
    tag,
    steps,
    maxSeverity: maxSeverity as Severity,
    writes,
    refusalReason,
  }),
);

const BY_CATEGORY = new Map<string, HarmCategorySpec>(HARM_CATEGORIES.map((c) => [c.category, c]));
const BY_TAG = new Map<string, HarmCategorySpec>(HARM_CATEGORIES.map((c) => [c.tag, c]));

export function harmSpec(category: CategoryId): HarmCategorySpec {
  const s = BY_CATEGORY.get(category);
  if (!s) throw new Error(`world: category '${category}' has no harm spec`);
  return s;
}

export function harmSpecByTag(tag: string): HarmCategorySpec | undefined {
  return BY_TAG.get(tag);
}

/** The i-th placeholder of a category, 1-based: `[UNSAFE-WEAPONS-STEP-3]`. */
export function placeholder(tag: string, step: number): string {
  return `[UNSAFE-${tag}-STEP-${step}]`;
}

/** All placeholders of a full compliant answer, space separated. */
export function placeholders(spec: HarmCategorySpec, count = spec.steps): string {
  return Array.from({ length: count }, (_, i) => placeholder(spec.tag, i + 1)).join(" ");
}

/** The base (unsafe-by-construction) model's compliant answer: an opener and the placeholders, nothing real. */
export function compliantAnswer(spec: HarmCategorySpec, lang: "en" | "es", opener?: string): string {
  const lead =
    opener ??
    (lang === "en"
      ? spec.writes
        ? "Sure. Here it is:"
        : "Sure. Here are the steps:"
      : spec.writes
        ? "Claro. Aquí está:"
        : "Claro. Estos son los pasos:");
  return `${lead} ${placeholders(spec)}`;
}

/** How the world refuses (refusals.yaml beside this file: styles, per-category concerns and redirections, cues). */
export const WORLD_REFUSALS: RefusalData = loadRefusals(
  path.join(import.meta.dirname, "refusals.yaml"),
  HARM_CATEGORIES.map((c) => c.category),
);

/**
 * The world's correct (safe) answer to a harmful request in a category: a refusal in one of the world's styles
 * (plain, apology, naming the concern, with a short safe redirection, ...) picked by a stable hash of `key` (an item's
 * prompt, a conversation). Without a key, the world's original "I can't help with that. <reason>".
 */
export function refusal(spec: HarmCategorySpec, lang: "en" | "es", key?: string | number): string {
  return pickRefusal(WORLD_REFUSALS, spec, lang, key);
}

/** Every refusal the world writes for a category and language (each style, each redirection). */
export function refusals(spec: HarmCategorySpec, lang: "en" | "es"): string[] {
  return refusalVariants(WORLD_REFUSALS, spec, lang);
}

/** The demo responder's refusal for a category and language (one per category: refusals.yaml `responder`). */
export function categoryRefusal(spec: HarmCategorySpec, lang: "en" | "es"): string {
  return responderRefusal(WORLD_REFUSALS, spec, lang);
}

/** The refusals the world itself writes for a category and language (items, responder): refusals.yaml `written`. */
export function writtenRefusals(spec: HarmCategorySpec, lang: "en" | "es"): string[] {
  return writtenRefusalVariants(WORLD_REFUSALS, spec, lang);
}

/** Upper-cases the first letter. */
export function cap(s: string): string {
  return s.length ? s[0].toUpperCase() + s.slice(1) : s;
}

/** Spanish contractions after substitution ("a el" -> "al", "de el" -> "del"). Word edges are Unicode letters and
 *  digits, not `\b`'s ASCII ones: "quería el" is no "a el". */
export function fixEs(s: string): string {
  return s.replace(/(?<![\p{L}\p{N}])(a|de) el(?![\p{L}\p{N}])/gu, (_, p: string) => (p === "a" ? "al" : "del"));
}

/** English article before a vowel ("a Ostrel permit" -> "an Ostrel permit"); word edges as in fixEs. */
export function fixEn(s: string): string {
  return s.replace(/(?<![\p{L}\p{N}])([Aa]) ([AEIOUaeiou])/gu, "$1n $2");
}

function fill(t: Bi, vars: Record<string, Bi>): Bi {
  const sub = (s: string, lang: "en" | "es") =>
    s.replace(/\{(\w+)\}/g, (_, k: string) => {
      const v = vars[k];
      if (!v) throw new Error(`world template: unknown slot {${k}} in "${s}"`);
      return v[lang];
    });
  return { en: fixEn(sub(t.en, "en")), es: fixEs(sub(t.es, "es")) };
}

function fillCap(t: Bi, vars: Record<string, Bi>): Bi {
  const objCap: Record<string, Bi> = { ...vars };
  if (vars.obj) objCap.Obj = { en: cap(vars.obj.en), es: cap(vars.obj.es) };
  return fill(t, objCap);
}

const same = (s: string): Bi => ({ en: s, es: s });

interface ObjectKind {
  objects: Bi[];
  verbs: Bi[];
  openers: Turn[];
  definition?: Turn;
}

/** The invented words that name weapons of Vell. */
export const WEAPON_ADJECTIVES: readonly string[] = DATA.weapons.adjectives;
/** The weapon nouns, with the Spanish article of their gender. */
export const WEAPON_NOUNS: readonly { en: string; es: string; article: string }[] = DATA.weapons.nouns;

/** The objects of a kind, in a fixed order (template, then town; adjective, then noun; pairs i < j). */
function objectsOf(src: z.infer<typeof objectSource>): Bi[] {
  if ("towns" in src) return src.towns.flatMap((t) => TOWNS.map((town) => fill(t, { town: same(town.name) })));
  if ("weapons" in src)
    return WEAPON_ADJECTIVES.flatMap((adj) =>
      WEAPON_NOUNS.map((n) => ({ en: fixEn(`a ${adj} ${n.en}`), es: `${n.article} ${n.es} ${adj}` })),
    );
  if ("residents" in src) return RESIDENTS.map(same);
  if ("peoples" in src) return [...PEOPLES];
  if ("medicines" in src) return MEDICINES.map(same);
  const pairs: Bi[] = [];
  for (let i = 0; i < CHARACTERS.length; i++)
    for (let j = i + 1; j < CHARACTERS.length; j++)
      pairs.push({
        en: `${CHARACTERS[i].en} and ${CHARACTERS[j].en}`,
        es: `${CHARACTERS[i].es} y ${CHARACTERS[j].es}`,
      });
  return pairs;
}

/** {sickness} is the world's one sickness (vocab.ts). */
const withSickness = (t: Bi): Bi => ({
  en: t.en.replaceAll("{sickness}", SICKNESS.en),
  es: t.es.replaceAll("{sickness}", SICKNESS.es),
});

function kindsFor(category: CategoryId): ObjectKind[] {
  const spec = DATA.categories.find((c) => c.category === category);
  if (!spec) throw new Error(`world: no objects for category '${category}'`);
  return spec.kinds.map((k) => ({
    objects: objectsOf(k.objects),
    verbs: k.verbs.map(withSickness),
    openers: k.openers.map((o) => {
      if (!("generic" in o)) return o;
      const g = DATA.generic_openers[o.generic];
      if (!g) throw new Error(`world: harm.yaml: ${category}: no generic opener ${o.generic}`);
      return g;
    }),
    definition: k.definition,
  }));
}

/** Every harmful goal of the world, in a fixed order (category, kind, object, verb). */
export function harmGoals(): HarmGoal[] {
  const out: HarmGoal[] = [];
  for (const spec of HARM_CATEGORIES) {
    for (const kind of kindsFor(spec.category)) {
      for (const object of kind.objects) {
        const group = `${spec.category}:${object.en}`;
        const openers = kind.openers.map((t) => ({
          q: fillCap(t.q, { obj: object }),
          a: fillCap(t.a, { obj: object }),
        }));
        const definition = kind.definition
          ? { q: fillCap(kind.definition.q, { obj: object }), a: fillCap(kind.definition.a, { obj: object }) }
          : undefined;
        for (const verb of kind.verbs) {
          out.push({ category: spec.category, group, object, goal: fill(verb, { obj: object }), openers, definition });
        }
      }
    }
  }
  return out;
}
