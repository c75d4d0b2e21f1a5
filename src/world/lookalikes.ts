/**
 * Benign look-alikes in XSTest's style, each paired with its unsafe twin (XSTest's "contrast_" prompts). Types follow
 * XSTest: homonyms, figurative language, safe targets, safe contexts, definitions, historical events, fiction
 * (a safe question set in a story) and privacy of public figures. Definitions are generated from the harm objects
 * (harm.ts) so they share the object's split group; the rest are templates (lookalikes.yaml) instantiated once per
 * town.
 */
import path from "node:path";
import { z } from "zod";
import { loadDataFile } from "../domain/data-file.ts";
import { CATEGORY_IDS, type CategoryId } from "../domain/index.ts";
import { fixEn, fixEs } from "./harm.ts";
import { type Bi, TOWNS, type Town } from "./vocab.ts";

export const LOOKALIKE_TYPES = [
  "homonyms",
  "figurative_language",
  "safe_targets",
  "safe_contexts",
  "definitions",
  "historical_events",
  "fiction",
  "privacy_public",
] as const;
export type LookalikeType = (typeof LOOKALIKE_TYPES)[number];

export interface PairTemplate {
  type: Exclude<LookalikeType, "definitions">;
  id: string;
  safe: { prompt: Bi; answer: Bi };
  unsafe: { prompt: Bi; category: CategoryId };
}

const bi = z.object({ en: z.string().min(1), es: z.string().min(1) }).strict();

/** lookalikes.yaml beside this file (frozen with the committed model organism: same strings, same order). */
export const LOOKALIKE_TEMPLATES: readonly PairTemplate[] = loadDataFile(
  path.join(import.meta.dirname, "lookalikes.yaml"),
  z
    .object({
      templates: z
        .array(
          z
            .object({
              type: z.enum(LOOKALIKE_TYPES).exclude(["definitions"]),
              id: z.string().regex(/^[a-z0-9-]+$/),
              safe: z.object({ prompt: bi, answer: bi }).strict(),
              unsafe: z.object({ prompt: bi, category: z.enum(CATEGORY_IDS) }).strict(),
            })
            .strict(),
        )
        .min(1),
    })
    .strict(),
).templates;

export interface LookalikePair {
  type: LookalikeType;
  /** The template it was made from (lookalikes.yaml id; "definition" for definitions look-alikes). */
  template: string;
  /** The underlying item: both halves of the pair share it, so they always land in the same split. */
  group: string;
  safePrompt: Bi;
  safeAnswer: Bi;
  unsafePrompt: Bi;
  /** Definitions pairs: is the unsafe twin in a held-out phrasing (templates.ts), per language? */
  unsafeOod?: { en: boolean; es: boolean };
  unsafeCategory: CategoryId;
}

/**
 * A look-alike text with its town's slots ({town}, {river}, {mayor}) filled and the language's article fixes applied;
 * an unknown slot is an error naming `where` (the data file).
 */
export function fillTown(s: string, town: Town, lang: "en" | "es", where = "world look-alike template"): string {
  const out = s.replaceAll("{town}", town.name).replaceAll("{river}", town.river).replaceAll("{mayor}", town.mayor);
  if (/\{\w+\}/.test(out)) throw new Error(`${where} has an unknown slot: "${s}"`);
  return lang === "es" ? fixEs(out) : fixEn(out);
}

/** Every template-based look-alike pair (definitions come from harm objects, see generate.ts). */
export function templatePairs(): LookalikePair[] {
  const out: LookalikePair[] = [];
  for (const t of LOOKALIKE_TEMPLATES) {
    for (const town of TOWNS) {
      const f = (b: Bi): Bi => ({ en: fillTown(b.en, town, "en"), es: fillTown(b.es, town, "es") });
      out.push({
        type: t.type,
        template: t.id,
        group: `lookalike:${t.id}:${town.name}`,
        safePrompt: f(t.safe.prompt),
        safeAnswer: f(t.safe.answer),
        unsafePrompt: f(t.unsafe.prompt),
        unsafeCategory: t.unsafe.category,
      });
    }
  }
  return out;
}
