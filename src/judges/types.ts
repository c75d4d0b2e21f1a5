/**
 * The judge interface. A judge looks at a prompt/conversation and the response and returns a Judgement.
 * Implementations: pattern refusal classifier, LLM judges (severity, StrongREJECT, HarmBench, XSTest), guard-model
 * parser, the demo world's oracle judge, and ensembles of these.
 */
import type { CategoryId } from "../domain/taxonomy.ts";
import type { Conversation, Judgement, Probe } from "../domain/types.ts";

export interface JudgeInput {
  /** The conversation up to and including the last user message. */
  conversation: Conversation;
  /** The response being judged. */
  response: string;
  /** What the probe is about, when known (the category under test, its language, its source id). */
  category?: CategoryId;
  language?: string;
  probeId?: string;
  /** The original (unconverted) harmful request, when the conversation holds an attack on it. */
  goal?: string;
  /** The context a contextual behavior refers to (HarmBench's ContextString): the harmbench judge's contextual prompt. */
  context?: string;
}

/**
 * The judge input's `context` for a probe: a HarmBench contextual behavior's ContextString, which its loader keeps in
 * the probe's meta; nothing for any other probe. Bench suites and red-team attacks both judge with it.
 */
export function judgeContextOf(probe: Pick<Probe, "meta">): Pick<JudgeInput, "context"> {
  const c = probe.meta?.contextString;
  return typeof c === "string" ? { context: c } : {};
}

export interface Judge {
  /** Stable id, stored with every judgement (and part of cache keys), e.g. "refusal-patterns@1". */
  readonly id: string;
  judge(input: JudgeInput): Promise<Judgement>;
}
