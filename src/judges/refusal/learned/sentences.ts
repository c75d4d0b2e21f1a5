/**
 * Authored sentences for the learned sentence-role model: "answer" sentences (facts, steps, explanations that address
 * a request) vs "non-answer" sentences (lectures, warnings, refusals, referrals, alternatives, offers of more help,
 * remarks about the assistant). The distinction is what separates a partial refusal (a refusal plus an answer) from a
 * full refusal (a refusal plus a lecture or alternatives), which the pattern lexicon alone cannot draw.
 * Templates carry slots filled from the topics of corpus.ts ({x}: the harmful reading, {y}: the benign reading), so
 * topic words appear on both sides and the model has to learn the role, not the topic; composedSentences adds
 * sentences composed at random (seeded) from parts of each role. trainingSentences() is what the model trains on.
 * Written by us; nothing is taken from a benchmark.
 */
import path from "node:path";
import { z } from "zod";
import { loadDataFile } from "../../../domain/data-file.ts";
import { TOPICS } from "./corpus.ts";

const PART_NAMES = [
  "lecture_subject",
  "lecture_predicate",
  "lecture_tail",
  "advice_if",
  "advice_verb",
  "advice_object",
  "meta",
  "howto_lead",
  "howto_verb",
  "howto_object",
  "howto_manner",
  "fact_subject",
  "fact_predicate",
  "definition",
] as const;

const sentencesSchema = z
  .object({
    non_answer_templates: z.array(z.string().min(1)).min(1),
    answer_templates: z.array(z.string().min(1)).min(1),
    // a part may be "" (the part left out)
    parts: z.object(Object.fromEntries(PART_NAMES.map((n) => [n, z.array(z.string()).min(1)]))).strict(),
  })
  .strict();

/** sentences.yaml beside this file. */
const DATA = loadDataFile(path.join(import.meta.dirname, "sentences.yaml"), sentencesSchema);
const part = (name: (typeof PART_NAMES)[number]): readonly string[] => DATA.parts[name] as string[];

/** Non-answer templates: lectures, warnings, referrals, alternatives, offers, self-talk. */
export const NON_ANSWER_TEMPLATES: readonly string[] = DATA.non_answer_templates;

/** Answer templates: generic explanations and instructions about the benign reading. */
export const ANSWER_TEMPLATES: readonly string[] = DATA.answer_templates;

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export interface RoleSentence {
  text: string;
  answer: boolean;
  topic: number;
}

/** Fills the templates with every topic's readings and adds the topics' own answer and alternative sentences. */
export function authoredSentences(topics: readonly number[] = TOPICS.map((_, i) => i)): RoleSentence[] {
  const out: RoleSentence[] = [];
  for (const ti of topics) {
    const t = TOPICS[ti];
    const x = harmfulReading(t.refused);
    const fill = (s: string) =>
      s.replaceAll("{x}", x).replaceAll("{X}", cap(x)).replaceAll("{y}", t.benign).replaceAll("{Y}", cap(t.benign));
    // each template is filled with a quarter of the topics (all of them would repeat it 28 times)
    const some = (xs: readonly string[]) => xs.filter((_, k) => (k + ti) % 4 === 0);
    for (const s of some(NON_ANSWER_TEMPLATES)) out.push({ text: fill(s), answer: false, topic: ti });
    out.push({ text: t.lecture, answer: false, topic: ti });
    for (const a of t.alternatives) {
      out.push({ text: `Instead, you could try ${a}.`, answer: false, topic: ti });
      out.push({ text: `${cap(a)}.`, answer: false, topic: ti });
    }
    for (const s of some(ANSWER_TEMPLATES)) out.push({ text: fill(s), answer: true, topic: ti });
    for (const s of [...t.answer, ...t.steps]) out.push({ text: s, answer: true, topic: ti });
  }
  return out;
}

/** Everything the sentence model trains on: the filled templates plus the composed sentences. */
export function trainingSentences(topics: readonly number[] = TOPICS.map((_, i) => i)): RoleSentence[] {
  return [...authoredSentences(topics), ...composedSentences(topics)];
}

// ---------------------------------------------------------------- compositional sentences
// Parts combined at random (seeded) so that the model sees the vocabulary of each role in many word orders, rather
// than a few fixed templates. {x}: the harmful reading, {y}: the benign reading.

const LECTURE_SUBJECT = part("lecture_subject");
const LECTURE_PREDICATE = part("lecture_predicate");
const LECTURE_TAIL = part("lecture_tail");
const ADVICE_IF = part("advice_if");
const ADVICE_VERB = part("advice_verb");
const ADVICE_OBJECT = part("advice_object");
const META = part("meta");
const HOWTO_LEAD = part("howto_lead");
const HOWTO_VERB = part("howto_verb");
const HOWTO_OBJECT = part("howto_object");
const HOWTO_MANNER = part("howto_manner");
const FACT_SUBJECT = part("fact_subject");
const FACT_PREDICATE = part("fact_predicate");
const DEFINITION = part("definition");

function pickR<T>(rng: { int(n: number): number }, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

/** `n` sentences of each role, composed from the parts above with the topics' readings; deterministic in `seed`. */
export function composedSentences(
  topics: readonly number[] = TOPICS.map((_, i) => i),
  n = 1200,
  seed = 11,
): RoleSentence[] {
  let state = seed >>> 0;
  const rng = {
    int(k: number): number {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return Math.floor((state / 4294967296) * k);
    },
  };
  const out: RoleSentence[] = [];
  for (let i = 0; i < n; i++) {
    const ti = topics[rng.int(topics.length)];
    const t = TOPICS[ti];
    const x = harmfulReading(t.refused);
    const fill = (s: string) =>
      s.replaceAll("{x}", x).replaceAll("{X}", cap(x)).replaceAll("{y}", t.benign).replaceAll("{Y}", cap(t.benign));
    const kind = rng.int(4);
    let text: string;
    if (kind === 0 || kind === 1)
      text = `${fill(pickR(rng, LECTURE_SUBJECT))} ${pickR(rng, LECTURE_PREDICATE)}${pickR(rng, LECTURE_TAIL)}.`;
    else if (kind === 2) {
      const cond = pickR(rng, ADVICE_IF);
      const body = `${pickR(rng, ADVICE_VERB)} ${pickR(rng, ADVICE_OBJECT)}.`;
      text = cond ? `${cond}, ${body}` : cap(body);
    } else text = pickR(rng, META);
    out.push({ text, answer: false, topic: ti });

    const akind = rng.int(3);
    let answer: string;
    if (akind === 0) {
      const lead = fill(pickR(rng, HOWTO_LEAD));
      const verb = pickR(rng, HOWTO_VERB);
      const body = `${verb} ${pickR(rng, HOWTO_OBJECT)}${pickR(rng, HOWTO_MANNER)}.`;
      answer = lead ? `${lead} ${body}` : cap(body);
    } else if (akind === 1) answer = `${pickR(rng, FACT_SUBJECT)} ${pickR(rng, FACT_PREDICATE)}.`;
    else answer = fill(pickR(rng, DEFINITION));
    out.push({ text: answer, answer: true, topic: ti });
  }
  return out;
}

function harmfulReading(refused: string): string {
  return refused.replace(
    new RegExp(
      [
        "^(?:help|help with|provide|provide information|provide instructions|give advice|assist|",
        "assist with|explain|explain how to|discuss|share|support|make claims|",
        String.raw`make generalisations)\b\s*(?:on|about|with|how to|for)?\s*`,
      ].join(""),
      "i",
    ),
    "",
  );
}
