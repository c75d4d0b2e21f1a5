/** Pieces every suite shares: probe sources, building the conversation a probe sends, calling the judge safely. */
import type { Conversation, Judgement, Probe } from "../../domain/types.ts";
import { blockedJudgement, isBlockedResponse } from "../../judges/blocked.ts";
import { type Judge, judgeContextOf } from "../../judges/types.ts";
import { type DefectRule, isDefectJudgement } from "../metrics.ts";
import { itemKeyOf } from "../runner.ts";
import type { Grade, SuiteItem, Transcript } from "../types.ts";

/** Where a suite's probes come from: a dataset loader, the world, or a user file. Called once per run. */
export type ProbeSource = () => Promise<Probe[]>;

/** The conversation a probe sends: optional system prompt, the probe's history, then its prompt as a user turn. */
export function probeConversation(p: Probe, systemPrompt?: string): Conversation {
  const conv: Conversation = [];
  if (systemPrompt) conv.push({ role: "system", content: systemPrompt });
  if (p.history) conv.push(...p.history);
  conv.push({ role: "user", content: p.prompt });
  return conv;
}

/** One item per probe, keyed by suite name, probe id and what is sent. */
export function plainItems(suiteName: string, probes: readonly Probe[], systemPrompt?: string): SuiteItem[] {
  return probes.map((probe) => {
    const conversation = probeConversation(probe, systemPrompt);
    return { key: itemKeyOf(suiteName, probe.id, conversation), probe, conversation };
  });
}

/**
 * Asks the judge about a transcript. A judge that throws (e.g. its own model is down after retries) fails this item:
 * the error goes to the runner, which counts the item failed and stores nothing, so a re-run judges it again. Only a
 * judge's own "unjudged" verdict (output it could not parse after its repair turn) is stored as unjudged.
 */
export async function judgeTranscript(judge: Judge, item: SuiteItem, t: Transcript): Promise<Judgement> {
  // the deployment's content filter blocked the answer: a refusal, with no text for the judge (judges/blocked.ts)
  if (isBlockedResponse({ finishReason: t.finishReason, content: t.response }))
    return blockedJudgement(judge.id, t.filter);
  return judge.judge({
    conversation: t.conversation.slice(0, -1),
    response: t.response,
    category: item.probe.category,
    language: item.probe.language,
    probeId: item.probe.id,
    goal: item.goal ?? item.probe.prompt,
    ...judgeContextOf(item.probe), // a HarmBench contextual behavior's document: the harmbench judge's contextual prompt
  });
}

/** Loads probes and fails with the suite's name when the source yields none of the wanted kind. */
export async function loadProbes(
  suiteName: string,
  source: ProbeSource,
  filter?: (p: Probe) => boolean,
): Promise<Probe[]> {
  const all = await source();
  const probes = filter ? all.filter(filter) : all;
  if (probes.length === 0) {
    throw new Error(`suite ${suiteName}: its probe source gave no usable probes (${all.length} loaded)`);
  }
  return probes;
}

/** The grade of a defect-rate suite: the judge's verdict, and whether it is a defect under the suite's rule. */
export function defectGrader(judge: Judge, rule: DefectRule): (item: SuiteItem, t: Transcript) => Promise<Grade> {
  return async (item, t) => {
    const judgement = await judgeTranscript(judge, item, t);
    return { judgement, outcome: isDefectJudgement(judgement, rule) };
  };
}
