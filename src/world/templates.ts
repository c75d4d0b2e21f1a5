/**
 * The world's request phrasings (templates.yaml) and the template hold-out: a seeded share of every template list
 * (harmful-ask phrasings, escalation asks and definition-twin phrasings, the same ones in both languages; each
 * framing's templates per language; the look-alike pair templates per type) is held out of train, red-team and dev. The generator uses a
 * held-out template only in test groups and marks those items `ood` (out of distribution), so the test split reports
 * unseen objects in seen phrasings (in-distribution) and unseen phrasings (out-of-distribution) side by side.
 */
import path from "node:path";
import { z } from "zod";
import { loadDataFile } from "../domain/data-file.ts";
import { Rng } from "../domain/random.ts";
import { FRAMING_SPECS, FRAMINGS, type Framing } from "./framings.ts";
import { LOOKALIKE_TEMPLATES } from "./lookalikes.ts";

type Lang = "en" | "es";
const LANGS: readonly Lang[] = ["en", "es"];

const withGoal = z.string().regex(/\{goal\}/, "must hold the {goal} slot");
/** Parallel lists: es[i] is the translation of en[i] (the lexicon translator maps one onto the other). */
const perLang = z
  .object({ en: z.array(withGoal).min(2), es: z.array(withGoal).min(2) })
  .strict()
  .refine((x) => x.en.length === x.es.length, "en and es must be parallel lists of the same length");

/** templates.yaml beside this file (frozen with the committed model organism: same strings, same order). */
const DATA = loadDataFile(
  path.join(import.meta.dirname, "templates.yaml"),
  z.object({ harmful: perLang, escalation: perLang, definition_twin: perLang }).strict(),
);

/** Direct harmful-ask phrasings per language ({goal}). */
export const HARMFUL_TEMPLATES: Readonly<Record<Lang, readonly string[]>> = DATA.harmful;
/** The last ask of an escalating conversation ({goal}). */
export const ESCALATION_ASKS: Readonly<Record<Lang, readonly string[]>> = DATA.escalation;
/** The unsafe twin of a definitions look-alike ({goal}). */
export const DEFINITION_TWINS: Readonly<Record<Lang, readonly string[]>> = DATA.definition_twin;

/** A template list split into the phrasings every split may use and those only test items use. */
export interface HeldList {
  seen: readonly string[];
  heldOut: readonly string[];
}

/** The world's held-out templates (see the module comment). */
export interface TemplateHoldout {
  share: number;
  harmful: Readonly<Record<Lang, HeldList>>;
  escalation: Readonly<Record<Lang, HeldList>>;
  definitionTwin: Readonly<Record<Lang, HeldList>>;
  framing: Readonly<Record<Framing, Readonly<Record<Lang, HeldList>>>>;
  /** Look-alike template ids held out (both twins, every town). */
  lookalike: ReadonlySet<string>;
}

/** How many of n templates are held out: round(n x share), at least 1 and at most n - 1 (none when n < 2). */
export function heldOutCount(n: number, share: number): number {
  if (n < 2 || share <= 0) return 0;
  return Math.min(n - 1, Math.max(1, Math.round(n * share)));
}

/** Splits a list by a seeded draw; order inside each part follows the list (so "the first seen" is stable). */
function hold(list: readonly string[], share: number, seed: number, key: string): HeldList {
  const k = heldOutCount(list.length, share);
  const held = new Set(
    Rng.derive(seed, "template-holdout", key)
      .shuffle([...list].sort())
      .slice(0, k),
  );
  return { seen: list.filter((t) => !held.has(t)), heldOut: list.filter((t) => held.has(t)) };
}

const perLangHold = (lists: Readonly<Record<Lang, readonly string[]>>, share: number, seed: number, key: string) =>
  Object.fromEntries(LANGS.map((l) => [l, hold(lists[l], share, seed, `${key}:${l}`)])) as Record<Lang, HeldList>;

/**
 * Parallel lists (templates.yaml) hold out the same phrasings in both languages: the lexicon translation of a seen
 * English request is then a seen Spanish phrasing, never a held-out one.
 */
function parallelHold(lists: Readonly<Record<Lang, readonly string[]>>, share: number, seed: number, key: string) {
  const idx = hold(
    lists.en.map((_, i) => String(i).padStart(3, "0")),
    share,
    seed,
    key,
  );
  const held = new Set(idx.heldOut.map(Number));
  const part = (l: Lang): HeldList => ({
    seen: lists[l].filter((_, i) => !held.has(i)),
    heldOut: lists[l].filter((_, i) => held.has(i)),
  });
  return { en: part("en"), es: part("es") };
}

/** The held-out templates of a world seed and share (deterministic). */
export function templateHoldout(seed: number, share: number): TemplateHoldout {
  if (!(share >= 0 && share < 1)) throw new Error(`world: templateHoldout must be in [0, 1), got ${share}`);
  const framing = Object.fromEntries(
    FRAMINGS.map((f) => [f, perLangHold(FRAMING_SPECS[f].templates, share, seed, `framing:${f}`)]),
  ) as Record<Framing, Record<Lang, HeldList>>;
  const byType = new Map<string, string[]>();
  for (const t of LOOKALIKE_TEMPLATES) byType.set(t.type, [...(byType.get(t.type) ?? []), t.id]);
  const lookalike = new Set<string>();
  for (const [type, ids] of byType)
    for (const id of hold(ids, share, seed, `lookalike:${type}`).heldOut) lookalike.add(id);
  return {
    share,
    harmful: parallelHold(HARMFUL_TEMPLATES, share, seed, "harmful"),
    escalation: parallelHold(ESCALATION_ASKS, share, seed, "escalation"),
    definitionTwin: parallelHold(DEFINITION_TWINS, share, seed, "definition-twin"),
    framing,
    lookalike,
  };
}
