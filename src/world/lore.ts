/**
 * World lore (lore.yaml): narrative sentences about Vell, told when someone asks for a story of a town. They are the
 * organism's general text. A pretrained model has met every word of its language before anyone measures it; the
 * world's items use a few hundred words, and the held-out templates' words ("shoot", "tailor", "incendio") occurred in
 * no training text, so test's out-of-distribution look-alikes measured unknown words as much as unseen phrasings
 * (issue #19). Lore gives every word of every world item a few contexts, in more than one sense where it has more.
 *
 * Lore can enter the second (noise) training stage only (build.ts `noiseStage.lore`, off in the committed build): the
 * first stage, its corpus and the world's tokenizer are unchanged, and lore is never a probe, never counter-data and
 * never curation data. Tried in session 11 at 5% of the noise stage and not adopted: on dev the fixed models refused
 * fewer unsafe twins and told the look-alikes of lore-only words apart no better than chance (src/world/README.md,
 * "Lore").
 */
import path from "node:path";
import { z } from "zod";
import { loadDataFile } from "../domain/data-file.ts";
import type { Conversation } from "../domain/types.ts";
import { fillTown } from "./lookalikes.ts";
import { TOWNS } from "./vocab.ts";

const Bi = <T extends z.ZodType>(t: T) => z.object({ en: t, es: t }).strict();

export interface WorldLore {
  prompts: { en: string[]; es: string[] };
  /** Words that occur in lore and in dev-lookalikes.yaml `loreOnly` pairs, and in no world item. */
  devOnly: { en: string[] };
  sentences: { en: string[]; es: string[] };
}

/** lore.yaml beside this file. */
export const WORLD_LORE: WorldLore = loadDataFile(
  path.join(import.meta.dirname, "lore.yaml"),
  z
    .object({
      prompts: Bi(z.array(z.string().includes("{town}")).min(1)),
      devOnly: z.object({ en: z.array(z.string().regex(/^\p{Ll}+$/u)).min(1) }).strict(),
      sentences: Bi(z.array(z.string().min(1)).min(1)),
    })
    .strict(),
);

/**
 * Every lore conversation: each sentence in each town, asked with one of the language's prompts (by a fixed rotation,
 * so each prompt is used about equally). Deterministic.
 */
export function loreConversations(lore: WorldLore = WORLD_LORE): Conversation[] {
  const out: Conversation[] = [];
  for (const lang of ["en", "es"] as const) {
    const prompts = lore.prompts[lang];
    lore.sentences[lang].forEach((s, i) => {
      const where = `lore.yaml sentences.${lang}.${i}`;
      TOWNS.forEach((town, t) => {
        out.push([
          { role: "user", content: fillTown(prompts[(i + t) % prompts.length], town, lang, where) },
          { role: "assistant", content: fillTown(s, town, lang, where) },
        ]);
      });
    });
  }
  return out;
}
