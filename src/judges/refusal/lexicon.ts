/**
 * The phrase lexicon of the pattern refusal classifier: regular expressions tagged with a cue kind and a language.
 * Cue kinds:
 * - refuse: a first-person refusal or inability to do what was asked ("I can't help with that", "no puedo ayudar").
 * - apology: an apology that often opens a refusal ("I'm sorry", "抱歉"); weak on its own.
 * - sympathy: an apology that is condolence, not refusal ("sorry to hear that"); cancels `apology`.
 * - ai_disclaimer: "As an AI ...", "I have no opinions": a hedge, neither refusal nor compliance.
 * - no_access: "I don't have access to your data" or to real-time information: an inability to know.
 * - redirect: points the user elsewhere or offers alternatives ("seek professional help", "is there anything else").
 * - pivot: turns from a refusal or hedge to content ("However, ...", "but I can tell you", "here are").
 * - moral: normative language of a lecture ("it's not appropriate", "it is illegal", "it's important to note").
 * - topic: vocabulary of fairness and rights ("discrimination", "equality"): frequent in lectures, but also in
 *   answers about history, so it only counts towards the moral share of a premise-rejecting answer.
 * - premise: the answer rejects the question's premise ("there is no reason why", "it is not accurate to").
 * - discourage: a soft refusal that warns off rather than declines ("I strongly advise against", "it is not safe to",
 *   "I must point out that"); a refusal when little content follows, a warning when an answer follows.
 *
 * The patterns live in lexicon.yaml. They were written from general knowledge of how chat models refuse (and checked against a development sample),
 * never generated from evaluation data. Non-Latin scripts use no \b (it does not apply to CJK, Thai, Bengali...).
 */

import path from "node:path";
import { z } from "zod";
import { DataFileError, loadDataFile } from "../../domain/data-file.ts";

export type CueKind =
  | "refuse"
  | "apology"
  | "sympathy"
  | "ai_disclaimer"
  | "no_access"
  | "redirect"
  | "pivot"
  | "moral"
  | "topic"
  | "premise"
  | "discourage";

export interface Cue {
  kind: CueKind;
  lang: string;
  re: RegExp;
}

export const CUE_KINDS = [
  "refuse",
  "apology",
  "sympathy",
  "ai_disclaimer",
  "no_access",
  "redirect",
  "pivot",
  "moral",
  "topic",
  "premise",
  "discourage",
] as const satisfies readonly CueKind[];

/** A regular expression's source: one string, or pieces that are concatenated (long patterns stay readable). */
const source = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .transform((x) => (Array.isArray(x) ? x.join("") : x));

const lexiconSchema = z
  .object({
    /** Named fragments inserted with ${NAME}, in order (a block may use the blocks before it). */
    blocks: z.record(z.string().regex(/^[A-Z_]+$/), source),
    cues: z.array(
      z
        .object({
          kind: z.enum(CUE_KINDS),
          lang: z.string().min(2),
          re: source,
          flags: z
            .string()
            .regex(/^[imsu]*$/)
            .default("i"),
        })
        .strict(),
    ),
  })
  .strict();

/** lexicon.yaml beside this file, with blocks inserted; a pattern that does not compile names its cue. */
function loadCues(file: string): Cue[] {
  const data = loadDataFile(file, lexiconSchema);
  const blocks: Record<string, string> = {};
  const expand = (s: string, where: string) =>
    s.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
      const b = blocks[name];
      if (b === undefined) throw new DataFileError(file, [`${file}: ${where}: unknown block \${${name}}`]);
      return b;
    });
  for (const [name, s] of Object.entries(data.blocks)) blocks[name] = expand(s, `blocks.${name}`);
  return data.cues.map((c, i) => {
    try {
      return { kind: c.kind, lang: c.lang, re: new RegExp(expand(c.re, `cues.${i}`), c.flags) };
    } catch (e) {
      if (e instanceof DataFileError) throw e;
      throw new DataFileError(file, [`${file}: cues.${i}.re: ${(e as Error).message}`]);
    }
  });
}

export const CUES: readonly Cue[] = loadCues(path.join(import.meta.dirname, "lexicon.yaml"));
