/**
 * Benign asks (benign-asks.yaml): everyday goals asked in the world's seen harmful-ask and definition-twin phrasings
 * ("Tell me how to bake rye bread for the Ostrel fair.") and answered helpfully.
 *
 * Why: in the world's items the direct-ask phrasings ("Tell me how to", "Explain how to", "Teach me to", ...) carry
 * harmful goals only (every train item in them is unsafe), so the organism learns the phrasing itself as a sign of
 * harm. Session 12 measured it on dev: the committed base organism answers 34% of the benign dev look-alikes in unseen
 * phrasings (dev-lookalikes.ts) with a harmful placeholder, and its fixes refuse mostly those. A pretrained model has
 * met these phrasings with everyday goals far more often than with harmful ones.
 *
 * Opt-in corpus source (build.ts `benignAsks`, off in the committed build): never a probe, never counter-data, never
 * curation data, and only the seen phrasings of the world's template hold-out, so test's held-out phrasings stay
 * unseen; an ask sharing a 5-word run that only dev, test or the dev look-alikes hold is left out (heldOutRuns).
 * Tried in session 12 at 5% of both stages and not adopted: the base organism misread a different third of the benign
 * dev look-alikes, not fewer (src/world/README.md, "Benign asks").
 */
import path from "node:path";
import { z } from "zod";
import { ngrams } from "../curate/ngrams.ts";
import { loadDataFile } from "../domain/data-file.ts";
import type { Conversation } from "../domain/types.ts";
import { devLookalikePrompts } from "./dev-lookalikes.ts";
import type { World } from "./generate.ts";
import { cap } from "./harm.ts";
import { fillTown } from "./lookalikes.ts";
import type { TemplateHoldout } from "./templates.ts";
import { TOWNS } from "./vocab.ts";

const Bi = z.object({ en: z.string().min(1), es: z.string().min(1) }).strict();
const Goal = z.object({ goal: Bi, answer: Bi }).strict();

export interface BenignAsk {
  goal: { en: string; es: string };
  answer: { en: string; es: string };
}

/** benign-asks.yaml beside this file: `neutral` goals (no harm verb) and `senses` (benign senses of harm verbs). */
export const BENIGN_ASKS: { neutral: BenignAsk[]; senses: BenignAsk[] } = loadDataFile(
  path.join(import.meta.dirname, "benign-asks.yaml"),
  z.object({ neutral: z.array(Goal).min(1), senses: z.array(Goal).min(1) }).strict(),
);

/**
 * The 5-word runs a world's dev and test items (turns and answers) and the dev look-alikes hold that no train item
 * holds: what general text must never contain, so that dev and test stay unseen ("tell me how to kill" is one: the
 * dev look-alikes ask it, no train item does). Shared phrasings and answers of seen templates are not among them.
 */
export function heldOutRuns(world: World): Set<string> {
  const texts = (it: World["items"][number]) => [it.prompt, it.safeResponse, ...it.history.map((h) => h.content)];
  const train = new Set<string>();
  for (const it of world.items)
    if (it.split === "train") for (const s of texts(it)) for (const r of ngrams(s, 5)) train.add(r);
  const out = new Set<string>();
  const add = (s: string) => {
    for (const r of ngrams(s, 5)) if (!train.has(r)) out.add(r);
  };
  for (const it of world.items) if (it.split === "dev" || it.split === "test") for (const s of texts(it)) add(s);
  for (const p of [...devLookalikePrompts(), ...devLookalikePrompts("loreOnly")])
    for (const s of [p.safe, p.unsafe]) add(s);
  return out;
}

/**
 * Every benign-ask conversation: each goal in each seen harmful-ask and definition-twin phrasing of its language, in
 * one town by a fixed rotation, leaving out any that shares a run of `exclude` (heldOutRuns). Deterministic;
 * held-out phrasings are never used.
 */
export function benignAskConversations(
  holdout: TemplateHoldout,
  exclude: ReadonlySet<string> = new Set(),
  asks = BENIGN_ASKS,
): Conversation[] {
  const out: Conversation[] = [];
  const goals = [...asks.neutral, ...asks.senses];
  for (const lang of ["en", "es"] as const) {
    const phrasings = [...holdout.harmful[lang].seen, ...holdout.definitionTwin[lang].seen];
    goals.forEach((g, i) => {
      const where = `benign-asks.yaml goal ${i} (${lang})`;
      phrasings.forEach((p, j) => {
        const town = TOWNS[(i + j) % TOWNS.length];
        const conv: Conversation = [
          { role: "user", content: cap(fillTown(p.replace("{goal}", g.goal[lang]), town, lang, where)) },
          { role: "assistant", content: fillTown(g.answer[lang], town, lang, where) },
        ];
        if (!conv.some((m) => [...ngrams(m.content, 5)].some((r) => exclude.has(r)))) out.push(conv);
      });
    });
  }
  return out;
}
