/** Shared types and helpers of the multi-turn attacks (Crescendo-style, PAIR-style, scripted escalation). */

import { z } from "zod";
import { deriveSeed } from "../../domain/random.ts";
import type { CategoryId } from "../../domain/taxonomy.ts";
import type { ContentFilter, Conversation, Judgement, TechniqueStep } from "../../domain/types.ts";
import { blockedJudgement, isBlockedResponse } from "../../judges/blocked.ts";
import type { Judge } from "../../judges/types.ts";
import type { ChatModel, FinishReason, SamplingParams } from "../../models/types.ts";
import { ContextOverflowError, fitContext, isContextOverflow, type TargetContext } from "../campaign/context.ts";
import type { ConverterDeps } from "../converters/registry.ts";
import { FramingRegistry } from "../framings/load.ts";
import { DEFAULT_SUCCESS, isRefusal, isSuccess, type SuccessCriterion } from "../outcome.ts";
import { buildDraft } from "../techniques.ts";
import type { AttackBudget, BudgetMeter, StopReason } from "./budget.ts";
import { type ParseSource, parseAttackerOutput } from "./parse.ts";

export interface TurnRecord {
  /** Order of the attempt within the attack (backtracked attempts included). */
  index: number;
  /** What the attacker (or script) proposed, before per-turn converters. */
  proposal: string;
  /** What was sent to the target. */
  prompt: string;
  response: string;
  judgement: Judgement;
  refused: boolean;
  success: boolean;
  /** Rolled back (Crescendo/scripted) or abandoned for the best earlier prompt (PAIR). */
  backtracked: boolean;
  parseSource?: ParseSource;
  /** PAIR, TAP, FLIRT: the 1-10 score fed back to the attacker (TAP: also what width pruning ranks by). */
  score?: number;
  /** TAP: the node's id in the attack tree ("2.1" = first child of the root's second child) and its depth. */
  node?: string;
  depth?: number;
  /**
   * TAP: why the node left the tree: "off_topic" (phase 1, the evaluator found the prompt off the goal; it was never
   * sent, its response is empty and its judgement unjudged) or "width" (phase 2, not among the best `width` leaves).
   */
  pruned?: "off_topic" | "width";
  /** FLIRT: how the exemplar pool changed after this attempt ("added", "replaced 3", "kept"). */
  exemplars?: string;
  /**
   * The deployment's content filter blocked this turn's answer (finishReason "content_filter"), with the categories it
   * filtered on when it named them; the attack record's response carries them when this turn represents the attack.
   */
  blocked?: { filter?: ContentFilter };
}

export interface MultiTurnResult {
  strategy: "crescendo" | "pair" | "scripted" | "tap" | "flirt";
  success: boolean;
  stopReason: StopReason;
  /** The conversation the target ends with (kept turns only), final response included. */
  conversation: Conversation;
  /** The judged outcome: the successful turn's, else the most severe non-backtracked one, else the last. */
  judgement: Judgement;
  response: string;
  /** The representative turn was blocked by the deployment's content filter (TurnRecord.blocked). */
  blocked?: { filter?: ContentFilter };
  turns: TurnRecord[];
  keptTurns: number;
  backtracks: number;
  calls: number;
  tokens: number;
  /** stopReason "context_full": prompt tokens of the turn that could not be sent (when counted). */
  contextTokens?: number;
}

export interface MultiTurnEnv {
  target: ChatModel;
  /** The attacker model (Crescendo, PAIR, TAP, FLIRT); the scripted attack needs none. */
  attacker?: ChatModel;
  /** TAP's evaluator (on-topic checks, optional 1-10 ratings); the attacker model when not given. */
  evaluator?: ChatModel;
  judge: Judge;
  /**
   * Decides refusals (for backtracking) when the main judge's judgement says nothing about refusal (e.g. a harm
   * severity judge without a refusal field): typically the pattern refusal classifier.
   */
  refusalJudge?: Judge;
  /** The harmful request the attack works toward (the seed probe's prompt). */
  goal: string;
  category?: CategoryId;
  /** Language the attack is carried out in. */
  language: string;
  probeId?: string;
  seed: number;
  budget: AttackBudget;
  success?: SuccessCriterion;
  /** Converter steps applied to every prompt before it goes to the target (e.g. translation, leetspeak). */
  steps?: TechniqueStep[];
  deps?: ConverterDeps;
  framings?: FramingRegistry;
  /** A system prompt the target runs with (part of the deployment, not of the attack). */
  targetSystemPrompt?: string;
  targetParams?: SamplingParams;
  attackerParams?: SamplingParams;
  /** The target's context window: a turn that cannot fit is not sent and the attack stops ("context_full"). */
  context?: TargetContext;
  onTurn?: (t: TurnRecord) => void;
  signal?: AbortSignal;
}

export function sysPrefix(env: MultiTurnEnv): Conversation {
  return env.targetSystemPrompt ? [{ role: "system", content: env.targetSystemPrompt }] : [];
}

/** Applies the per-turn converter steps (charged to the meter when they call models). */
export async function convertTurn(env: MultiTurnEnv, meter: BudgetMeter, text: string, turn: number): Promise<string> {
  if (!env.steps?.length) return text;
  const d = await buildDraft(text, env.steps, {
    seed: deriveSeed(env.seed, "turn", turn),
    language: env.language,
    deps: env.deps ?? {},
    framings: env.framings ?? new FramingRegistry(),
    onUsage: meter.onUsage,
    signal: env.signal,
  });
  return d.pendingHint ? `${d.pendingHint}\n\n${d.text}` : d.text;
}

/**
 * Sends one turn to the target. With a context window, the turn is counted first: a turn that cannot fit throws
 * ContextOverflowError (so does a target that rejects the prompt as too long); the strategy stops on it with
 * "context_full" (see stopOnOverflow). The answer's maxTokens is capped to the room left.
 */
export async function callTarget(env: MultiTurnEnv, meter: BudgetMeter, messages: Conversation, turn: number) {
  const wanted = env.targetParams?.maxTokens ?? 512;
  let maxTokens = wanted;
  if (env.context) {
    const fit = await fitContext(env.context, messages, wanted);
    if (!fit.fits)
      throw new ContextOverflowError(
        `turn ${turn}: ${fit.promptTokens} prompt tokens do not fit the target's ${env.context.limit}-token context`,
        fit.promptTokens,
      );
    maxTokens = fit.maxTokens;
  }
  let res: Awaited<ReturnType<ChatModel["chat"]>>;
  try {
    res = await env.target.chat({
      temperature: 0,
      ...env.targetParams,
      maxTokens,
      seed: deriveSeed(env.seed, "target", turn),
      messages,
      signal: env.signal,
    });
  } catch (err) {
    if (isContextOverflow(err)) throw new ContextOverflowError((err as Error).message);
    throw err;
  }
  meter.charge(res.usage);
  return res;
}

/** The prompt tokens of a context overflow (undefined when not counted); rethrows any other error. */
export function stopOnOverflow(err: unknown): { tokens: number | undefined } {
  if (err instanceof ContextOverflowError) return { tokens: err.promptTokens };
  throw err;
}

/**
 * callTarget for a turn whose overflow ends the attack: the answer, or `full` with the prompt's tokens when the
 * conversation no longer fits the target's context (the attack stops as context_full); other errors propagate.
 */
export async function sendTurn(
  env: MultiTurnEnv,
  meter: BudgetMeter,
  sent: Conversation,
  index: number,
): Promise<{ out: Awaited<ReturnType<typeof callTarget>> } | { full: { tokens: number | undefined } }> {
  try {
    return { out: await callTarget(env, meter, sent, index) };
  } catch (err) {
    return { full: stopOnOverflow(err) };
  }
}

export async function judgeTurn(
  env: MultiTurnEnv,
  conversation: Conversation,
  response: string,
  finishReason?: FinishReason,
  filter?: ContentFilter,
) {
  // a turn the deployment's content filter blocked is a refusal, with no text for the judge (judges/blocked.ts)
  if (isBlockedResponse({ finishReason, content: response }))
    return {
      judgement: blockedJudgement(env.judge.id, filter),
      success: false,
      refused: true,
      blocked: filter ? { filter } : {},
    };
  const input = {
    conversation,
    response,
    category: env.category,
    language: env.language,
    probeId: env.probeId,
    goal: env.goal,
  };
  const judgement = await env.judge.judge(input);
  const crit = env.success ?? DEFAULT_SUCCESS;
  let refused = isRefusal(judgement);
  if (!refused && judgement.refusal === undefined && env.refusalJudge) {
    const r = await env.refusalJudge.judge(input);
    refused = isRefusal(r);
  }
  const success = isSuccess(judgement, crit);
  return { judgement, success, refused: refused && !success };
}

/**
 * The turn that represents the attack: the successful one, else the most severe kept one (judged turns first: a turn
 * whose judge failed represents the attack only when no turn was judged), else the last.
 */
export function representative(turns: readonly TurnRecord[]): TurnRecord | undefined {
  const win = turns.find((t) => t.success);
  if (win) return win;
  const kept = turns.filter((t) => !t.backtracked);
  const candidates = kept.length ? kept : turns;
  const judged = candidates.filter((t) => t.judgement.status === "ok");
  const pool = judged.length ? judged : candidates;
  let best: TurnRecord | undefined;
  for (const t of pool) if (!best || (t.judgement.severity ?? 0) > (best.judgement.severity ?? 0)) best = t;
  return best ?? turns.at(-1);
}

export const NO_ATTEMPT: Judgement = {
  judgeId: "none",
  status: "unjudged",
  label: "no_attempt",
  rationale: "the budget allowed no exchange with the target",
};

/** Keeps attacker context small: long target answers are cut (with a marker) before they are shown to the attacker. */
export function clip(text: string, max = 1500): string {
  return text.length <= max ? text : `${text.slice(0, max)} [...truncated ${text.length - max} chars]`;
}

export function checkAttacker(env: MultiTurnEnv, strategy: string): ChatModel {
  if (!env.attacker) throw new Error(`${strategy}: needs an attacker chat model (config: attacker)`);
  return env.attacker;
}

export function finish(
  strategy: MultiTurnResult["strategy"],
  stopReason: StopReason,
  conversation: Conversation,
  turns: TurnRecord[],
  meter: BudgetMeter,
  backtracks: number,
): MultiTurnResult {
  const rep = representative(turns);
  return {
    strategy,
    success: stopReason === "success",
    stopReason,
    conversation,
    judgement: rep?.judgement ?? NO_ATTEMPT,
    response: rep?.response ?? "",
    ...(rep?.blocked ? { blocked: rep.blocked } : {}),
    turns,
    keptTurns: turns.filter((t) => !t.backtracked).length,
    backtracks,
    calls: meter.calls,
    tokens: meter.tokens,
  };
}

export type { AttackBudget };

const promptProposal = z.object({ improvement: z.string().optional(), prompt: z.string().trim().min(1) });

/**
 * One attacker call that must answer with a `{"prompt": ...}` object (PAIR, TAP and FLIRT): sampled at temperature 1
 * unless the attacker's params say otherwise, charged to the meter. Undefined when the answer does not parse; the
 * caller decides how often to retry.
 */
export async function proposePrompt(
  env: MultiTurnEnv,
  meter: BudgetMeter,
  call: { seed: number; system: string; user: string; jsonSchema: { name: string; schema: Record<string, unknown> } },
): Promise<{ prompt: string; source: ParseSource } | undefined> {
  const res = await checkAttacker(env, "attack").chat({
    temperature: 1,
    maxTokens: 600,
    ...env.attackerParams,
    seed: call.seed,
    messages: [
      { role: "system", content: call.system },
      { role: "user", content: call.user },
    ],
    jsonSchema: call.jsonSchema,
    signal: env.signal,
  });
  meter.charge(res.usage);
  try {
    const p = parseAttackerOutput(res.content, promptProposal, "prompt");
    return { prompt: p.value.prompt, source: p.source };
  } catch {
    return undefined;
  }
}
