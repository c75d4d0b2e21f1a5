/**
 * Anthropic HH-RLHF harmless-base test split: gzip JSONL of {"chosen", "rejected"} transcripts in the
 * "\n\nHuman: ...\n\nAssistant: ..." format. Both sides share the dialogue prefix and (almost always) differ only in
 * the last Assistant turn; they become TRL conversational preference pairs (prompt = the shared turns).
 */

import { preferencePairSchema } from "../../domain/schemas.ts";
import type { Conversation, PreferencePair } from "../../domain/types.ts";
import { readJsonl } from "../read.ts";
import { remoteFile } from "../sources.ts";
import { type DatasetInfo, type DatasetLoader, ProblemCollector } from "../types.ts";
import { fileIn } from "./common.ts";

export const hhRlhfInfo: DatasetInfo = {
  name: "hh-rlhf-harmless",
  title: "HH-RLHF harmless-base (test)",
  description: "2312 held-out harmlessness preference pairs (chosen vs rejected last assistant turn).",
  kind: "preference-pairs",
  license: "MIT",
  homepage: "https://github.com/anthropics/hh-rlhf",
  rows: 2312,
  files: [remoteFile("hh-rlhf-harmless", "harmless-base-test.jsonl.gz")],
};

/** Splits an HH transcript ("\n\nHuman: a\n\nAssistant: b...") into messages. */
export function parseHhTranscript(text: string): Conversation {
  const parts = text.split(/\n\n(Human|Assistant): ?/);
  if (parts[0].trim() !== "") throw new Error("transcript does not start with '\\n\\nHuman:'");
  const conv: Conversation = [];
  for (let i = 1; i < parts.length; i += 2) {
    conv.push({ role: parts[i] === "Human" ? "user" : "assistant", content: parts[i + 1] ?? "" });
  }
  if (conv.length === 0) throw new Error("transcript has no Human/Assistant turns");
  return conv;
}

export interface HhPair extends PreferencePair {
  id: string;
}

/**
 * Converts one {chosen, rejected} record into a preference pair. The prompt is the longest shared run of turns
 * ending with a Human turn; chosen and rejected are the rest of each side (one Assistant turn in all but 5 of the
 * 2312 upstream test pairs, whose sides diverge earlier and so keep a few more turns).
 */
export function hhPair(id: string, chosenText: string, rejectedText: string): HhPair {
  const chosen = parseHhTranscript(chosenText);
  const rejected = parseHhTranscript(rejectedText);
  let shared = 0;
  while (
    shared < chosen.length &&
    shared < rejected.length &&
    chosen[shared].role === rejected[shared].role &&
    chosen[shared].content === rejected[shared].content
  ) {
    shared++;
  }
  while (shared > 0 && chosen[shared - 1].role !== "user") shared--;
  if (shared === 0) throw new Error("chosen and rejected share no opening Human turn");
  const pair: HhPair = {
    id,
    prompt: chosen.slice(0, shared),
    chosen: chosen.slice(shared),
    rejected: rejected.slice(shared),
    provenance: { round: 0, source: "hh-rlhf-harmless" },
  };
  if (pair.chosen[0]?.role !== "assistant" || pair.rejected[0]?.role !== "assistant") {
    throw new Error("chosen and rejected must both continue with an Assistant turn after the shared dialogue");
  }
  const r = preferencePairSchema.safeParse(pair);
  if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return pair;
}

export const hhRlhfHarmless: DatasetLoader<HhPair> = {
  info: hhRlhfInfo,
  load: async (dir) => {
    const file = fileIn(dir, "harmless-base-test.jsonl.gz");
    const rows = readJsonl(file);
    const pc = new ProblemCollector(file);
    const out: HhPair[] = [];
    for (const { line, value } of rows) {
      const p = pc.check(line, () => {
        const v = value as { chosen?: unknown; rejected?: unknown } | null;
        if (!v || typeof v.chosen !== "string" || typeof v.rejected !== "string") {
          throw new Error('expected {"chosen": string, "rejected": string}');
        }
        return hhPair(`hh-rlhf-harmless:${line}`, v.chosen, v.rejected);
      });
      if (p) out.push(p);
    }
    pc.throwIfAny();
    return out;
  },
  facets: () => ({ category: "unlabelled", label: "preference-pair", language: "en" }),
  idOf: (p) => p.id,
};
