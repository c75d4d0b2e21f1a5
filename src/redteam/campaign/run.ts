/**
 * Running a campaign: every planned attack not yet in the store is executed (single-turn: build the conversation,
 * ask the target, judge; multi-turn: the strategy's loop with its own per-turn judging) with bounded concurrency, and
 * each finished attack is written to the store at once, atomically. Killing the process loses at most the attacks in
 * flight; the next run skips everything stored. Progress (with an ETA) is reported through a callback.
 */
import pLimit from "p-limit";
import { contentHash } from "../../domain/hash.ts";
import { deriveSeed } from "../../domain/random.ts";
import type { Attack, Conversation, Response, TechniqueStep } from "../../domain/types.ts";
import { blockedJudgement, isBlockedResponse } from "../../judges/blocked.ts";
import { type Judge, judgeContextOf } from "../../judges/types.ts";
import type { ChatModel, SamplingParams } from "../../models/types.ts";
import type { ConverterDeps } from "../converters/registry.ts";
import { createConverter } from "../converters/registry.ts";
import type { FramingRegistry } from "../framings/load.ts";
import { type AttackBudget, BudgetMeter } from "../multiturn/budget.ts";
import { crescendoAttack } from "../multiturn/crescendo.ts";
import { type FlirtStrategy, flirtAttack } from "../multiturn/flirt.ts";
import { pairAttack } from "../multiturn/pair.ts";
import { type EscalationScript, findScript, scriptedAttack } from "../multiturn/scripted.ts";
import { tapAttack } from "../multiturn/tap.ts";
import type { MultiTurnEnv, MultiTurnResult } from "../multiturn/types.ts";
import { DEFAULT_SUCCESS, isRefusal, isSuccess, type SuccessCriterion } from "../outcome.ts";
import { buildAttackConversation } from "../techniques.ts";
import { type Fit, fitContext, isContextOverflow, type TargetContext } from "./context.ts";
import { type MultiTurnKey, recordId } from "./plan.ts";
import type { AttackRecord, CampaignStore, PlannedAttack } from "./types.ts";

export interface CampaignProgress {
  total: number;
  /** Attacks finished in this run plus those found in the store. */
  done: number;
  fromStore: number;
  failed: number;
  successes: number;
  elapsedMs: number;
  /** Estimated ms left, from this run's pace (undefined until one attack has run). */
  etaMs?: number;
}

export interface CampaignEnv {
  target: ChatModel;
  judge: Judge;
  /** Refusal decisions for multi-turn backtracking when the judge gives none (see MultiTurnEnv.refusalJudge). */
  refusalJudge?: Judge;
  attacker?: ChatModel;
  /** TAP's evaluator (on-topic pruning, ratings); the attacker when not given. */
  evaluator?: ChatModel;
  deps: ConverterDeps;
  framings: FramingRegistry;
  store: CampaignStore;
  /** Attacks in flight at once (use the target provider's concurrency). */
  concurrency: number;
  /** Budget of each multi-turn attack; single-turn attacks make one target call (+ converter calls). */
  budget: AttackBudget;
  success?: SuccessCriterion;
  /** Cap on model calls by this run (attacker + target + converters); attacks not started when it is reached wait. */
  maxModelCalls?: number;
  scripts?: readonly EscalationScript[];
  /** Which script the "scripted" technique uses (default: story_escalation). */
  scriptName?: string;
  targetParams?: SamplingParams;
  targetSystemPrompt?: string;
  /** The target's context window: prompts are fitted to it, or not sent (see context.ts). None: no check. */
  context?: TargetContext;
  onProgress?: (p: CampaignProgress) => void;
  signal?: AbortSignal;
}

export interface CampaignRunResult {
  records: AttackRecord[];
  ran: number;
  fromStore: number;
  failed: { id: string; error: string }[];
  /** Attacks not started because the model-call cap was reached. */
  notStarted: number;
  calls: number;
}

/** Judgement label of an attack that was not sent because its prompt cannot fit the target's context. */
export const NOT_SENT_LABEL = "not_sent_context";

const DECODABLE = new Set([
  "rot13",
  "base64",
  "reverse",
  "caesar",
  "atbash",
  "rot47",
  "vigenere",
  "morse",
  "binary",
  "hex",
  "url",
  "base32",
  "char_codes",
  "flip",
  "reverse_words",
]);

/** Mostly printable text with letters (a decoding that yields binary noise is not an answer). */
function looksLikeText(t: string): boolean {
  if (!/\p{L}{2}/u.test(t)) return false;
  const chars = Array.from(t);
  const printable = chars.filter((c) => /[\p{L}\p{N}\p{P}\p{Zs}\n\t]/u.test(c)).length;
  return printable / chars.length >= 0.95;
}

/** Common function words of the campaign languages with Latin script (a plain answer is full of them). */
const FUNCTION_WORDS = new Set(
  (
    "the a an and or but of to in on at for with is are was be it this that you i we not can no yes do " +
    "el la los las de que y en un una es por para con se lo su al del pero como " +
    "le les des et est une pas je vous il pour ne qui " +
    "der die das und ist nicht ich sie es ein eine zu mit den " +
    "di che non per il è um uma não com"
  ).split(" "),
);

/** Reads as plain text: at least two function words, a fifth of its words (rot13, reversed or enciphered text has ~none). */
export function readsAsText(t: string): boolean {
  const words = t.toLowerCase().match(/\p{L}+/gu) ?? [];
  const hits = words.filter((w) => FUNCTION_WORDS.has(w)).length;
  return hits >= 2 && hits / words.length >= 0.2;
}

/**
 * Decoded readings of a response, for the reversible encodings the attack used (rot13, base64, reversed text, the
 * ciphers and byte encodings): the target may answer in the encoding it was addressed in. An answer that itself reads
 * as text is not decoded (rot13 or reversal of a plain refusal is gibberish a judge may call compliance). Base64 is only
 * tried on base64-looking answers; an answer that is not in the encoding is skipped.
 */
export function responseDecodings(steps: readonly TechniqueStep[], response: string): { via: string; text: string }[] {
  const out: { via: string; text: string }[] = [];
  if (readsAsText(response)) return out;
  for (const s of steps) {
    if (s.kind !== "converter" || !DECODABLE.has(s.name) || out.some((o) => o.via === s.name)) continue;
    if (s.name === "base64" && !/^[A-Za-z0-9+/=\s]{12,}$/.test(response.trim())) continue;
    let text: string;
    try {
      text = createConverter(s).invert!(response);
    } catch {
      continue; // not in the encoding (malformed percent-escapes, base32 letters...)
    }
    if (text !== response && looksLikeText(text)) out.push({ via: s.name, text });
  }
  return out;
}

/** Index of the first framing step with a shots pool (many-shot), or -1. */
function manyShotStep(steps: readonly TechniqueStep[], framings: FramingRegistry): number {
  return steps.findIndex((s) => s.kind === "framing" && (framings.get(s.name).shots?.length ?? 0) > 0);
}

function withShots(steps: readonly TechniqueStep[], i: number, shots: number): TechniqueStep[] {
  return steps.map((s, j) => (j === i ? { ...s, params: { ...s.params, shots } } : s));
}

interface SingleTurnSent {
  sent: Conversation;
  fit?: Fit;
  shots?: { planned: number; used: number };
}

/**
 * Builds the attack conversation and fits it to the target's context: as planned when it fits; many-shot with the
 * most shots that fit (binary search; fewer shots are a prefix of the same seeded draw); otherwise not fitting.
 */
async function buildFitted(p: PlannedAttack, env: CampaignEnv, meter: BudgetMeter, wanted: number) {
  const build = async (steps: readonly TechniqueStep[]): Promise<Conversation> => {
    const conversation = await buildAttackConversation(
      p.probe.prompt,
      steps,
      {
        seed: p.seed,
        language: p.probe.language,
        deps: env.deps,
        framings: env.framings,
        onUsage: meter.onUsage,
        signal: env.signal,
      },
      p.probe.history ?? [],
    );
    return env.targetSystemPrompt && conversation[0]?.role !== "system"
      ? [{ role: "system", content: env.targetSystemPrompt }, ...conversation]
      : conversation;
  };
  const sent = await build(p.steps);
  if (!env.context) return { sent } satisfies SingleTurnSent;
  const fit = await fitContext(env.context, sent, wanted);
  const i = manyShotStep(p.steps, env.framings);
  if (fit.fits || i < 0) return { sent, fit } satisfies SingleTurnSent;
  const f = env.framings.get(p.steps[i].name);
  const given = p.steps[i].params?.shots;
  const planned = typeof given === "number" ? given : (f.defaultShots ?? f.shots?.length ?? 1);
  let best: SingleTurnSent | undefined;
  for (let lo = 1, hi = planned - 1; lo <= hi; ) {
    const mid = Math.floor((lo + hi) / 2);
    const c = await build(withShots(p.steps, i, mid));
    const ft = await fitContext(env.context, c, wanted);
    if (ft.fits) {
      best = { sent: c, fit: ft, shots: { planned, used: mid } };
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best ?? ({ sent, fit } satisfies SingleTurnSent);
}

async function runSingleTurn(p: PlannedAttack, env: CampaignEnv, meter: BudgetMeter) {
  const wanted = env.targetParams?.maxTokens ?? 512;
  const { sent, fit, shots } = await buildFitted(p, env, meter, wanted);
  if (fit && !fit.fits) return { notSent: { promptTokens: fit.promptTokens }, conversation: sent };
  let res: Awaited<ReturnType<ChatModel["chat"]>>;
  try {
    res = await env.target.chat({
      temperature: 0,
      ...env.targetParams,
      maxTokens: fit?.fits ? fit.maxTokens : wanted,
      seed: deriveSeed(p.seed, "target", p.id),
      messages: sent,
      signal: env.signal,
    });
  } catch (err) {
    // The target says the prompt is too long for it (no window was declared, or the estimate was too low).
    if (isContextOverflow(err)) return { notSent: { promptTokens: fit?.promptTokens }, conversation: sent };
    throw err;
  }
  meter.charge(res.usage);
  const input = {
    conversation: sent,
    response: res.content,
    category: p.probe.category,
    language: p.language,
    probeId: p.probe.id,
    goal: p.probe.prompt,
    ...judgeContextOf(p.probe),
  };
  // the deployment's content filter blocked the attack: refused, with no text to judge (judges/blocked.ts)
  const blocked = isBlockedResponse(res);
  let judgement = blocked ? blockedJudgement(env.judge.id, res.filter) : await env.judge.judge(input);
  let decodedVia: string | undefined;
  // A target that answers in the attack's encoding hides its answer from the judge: judge the decoded answer too.
  const crit = env.success ?? DEFAULT_SUCCESS;
  // A refusal is an answer the judge read: it is not decoded.
  if (!blocked && !isSuccess(judgement, crit) && !isRefusal(judgement)) {
    for (const d of responseDecodings(p.steps, res.content)) {
      const j = await env.judge.judge({ ...input, response: d.text });
      if (isSuccess(j, crit)) {
        judgement = {
          ...j,
          rationale: `${j.rationale ? `${j.rationale} ` : ""}[judged after decoding the response with ${d.via}]`,
        };
        decodedVia = d.via;
        break;
      }
    }
  }
  return {
    decodedVia,
    conversation: sent,
    content: res.content,
    finishReason: res.finishReason,
    filter: res.filter,
    usage: res.usage,
    model: res.model,
    judgement,
    context: fit?.fits ? { promptTokens: fit.promptTokens, ...(shots ? { shots } : {}) } : undefined,
  };
}

async function runMultiTurn(p: PlannedAttack, env: CampaignEnv, meter: BudgetMeter): Promise<MultiTurnResult> {
  const mt = p.steps.at(-1)!;
  const perTurn = p.steps.slice(0, -1);
  let goal = p.probe.prompt;
  // Attack in the campaign language: translate the goal once; the attacker/script then writes in that language.
  const translation = perTurn.find((s) => s.kind === "converter" && s.name === "translation");
  if (translation && p.probe.language !== p.language) {
    if (!env.deps.translator) throw new Error("multi-turn attack in another language needs a translator");
    goal = await env.deps.translator(goal, p.language, {
      seed: p.seed,
      language: p.probe.language,
      onUsage: meter.onUsage,
    });
  }
  const mtEnv: MultiTurnEnv = {
    target: env.target,
    attacker: env.attacker,
    evaluator: env.evaluator,
    judge: env.judge,
    refusalJudge: env.refusalJudge,
    goal,
    category: p.probe.category,
    language: p.language,
    probeId: p.probe.id,
    seed: deriveSeed(p.seed, p.id),
    budget: env.budget,
    success: env.success,
    steps: perTurn.filter((s) => s !== translation),
    deps: env.deps,
    framings: env.framings,
    targetSystemPrompt: env.targetSystemPrompt,
    targetParams: env.targetParams,
    context: env.context,
    signal: env.signal,
  };
  if (mt.name === "crescendo") return crescendoAttack(mtEnv);
  if (mt.name === "pair")
    return pairAttack(mtEnv, { streams: typeof mt.params?.streams === "number" ? mt.params.streams : undefined });
  const num = (k: string) => (typeof mt.params?.[k] === "number" ? (mt.params[k] as number) : undefined);
  if (mt.name === "tap") {
    const scorer = mt.params?.scorer;
    return tapAttack(mtEnv, {
      width: num("width"),
      branching: num("branching"),
      depth: num("depth"),
      onTopic: typeof mt.params?.on_topic === "boolean" ? mt.params.on_topic : undefined,
      scorer: scorer === "evaluator" || scorer === "judge" ? scorer : undefined,
    });
  }
  if (mt.name === "flirt") {
    return flirtAttack(mtEnv, {
      strategy: mt.params?.strategy === undefined ? undefined : (String(mt.params.strategy) as FlirtStrategy),
      exemplars: num("exemplars"),
      lambda: num("lambda"),
      minScore: num("min_score"),
      stopOnSuccess: typeof mt.params?.stop_on_success === "boolean" ? mt.params.stop_on_success : undefined,
    });
  }
  return scriptedAttack(mtEnv, findScript(scriptName(mt, env), env.scripts));
}

/** The escalation script a scripted step follows: its own parameter, else the run's, else story_escalation. */
function scriptName(mt: TechniqueStep, env: Pick<CampaignEnv, "scriptName">): string {
  return String(mt.params?.script ?? env.scriptName ?? "story_escalation");
}

/** What of this run steers a planned multi-turn attack (see MultiTurnKey); undefined for a single-turn attack. */
function multiTurnKey(p: PlannedAttack, env: RecordIdEnv): MultiTurnKey | undefined {
  const mt = p.steps.at(-1);
  if (mt?.kind !== "multiturn") return undefined;
  const { maxTurns, maxCalls, maxTokens, maxBacktracks } = env.budget;
  const budget = { maxTurns, maxCalls, maxTokens, maxBacktracks };
  if (mt.name === "scripted") {
    const name = scriptName(mt, env);
    let script: unknown = name;
    try {
      script = findScript(name, env.scripts);
    } catch {
      // an unknown script fails the attack when it runs; its id is then the name's
    }
    return { budget, script };
  }
  return {
    budget,
    ...(env.attacker ? { attacker: env.attacker.id } : {}),
    ...(mt.name === "tap" && env.evaluator ? { evaluator: env.evaluator.id } : {}),
  };
}

/** What a record id is computed from, of a run's environment. */
export type RecordIdEnv = Pick<
  CampaignEnv,
  "judge" | "context" | "success" | "budget" | "scriptName" | "scripts" | "attacker" | "evaluator"
>;

/** The record id of a planned attack in this run (see recordId and MultiTurnKey). */
export function recordIdOf(p: PlannedAttack, env: RecordIdEnv): string {
  return recordId(p.id, env.judge.id, env.context, env.success, multiTurnKey(p, env));
}

/** Executes one planned attack and returns its record (not yet stored). */
export async function executeAttack(p: PlannedAttack, env: CampaignEnv): Promise<AttackRecord> {
  const crit = env.success ?? DEFAULT_SUCCESS;
  const meter = new BudgetMeter({
    ...env.budget,
    maxCalls: Number.MAX_SAFE_INTEGER,
    maxTokens: Number.MAX_SAFE_INTEGER,
  });
  const attackBase = {
    id: p.id,
    probeId: p.probe.id,
    persona: p.persona,
    chain: p.steps,
    family: p.family,
    language: p.language,
    goal: p.probe.prompt,
    seed: p.seed,
  };
  const probe = {
    id: p.probe.id,
    category: p.probe.category,
    language: p.probe.language,
    prompt: p.probe.prompt,
    source: p.probe.source,
  };
  const rid = recordIdOf(p, env);
  const notSent = (conversation: Conversation, promptTokens: number | undefined): AttackRecord => ({
    id: rid,
    attack: { ...attackBase, conversation },
    probe,
    techniqueId: p.techniqueId,
    target: p.target,
    response: {
      id: contentHash({ attack: p.id, notSent: "context" }),
      model: env.target.id,
      conversation,
      content: "",
      finishReason: "error",
    },
    judgement: {
      judgeId: env.judge.id,
      status: "unjudged",
      label: NOT_SENT_LABEL,
      rationale:
        `not sent: the prompt${promptTokens === undefined ? "" : ` (${promptTokens} tokens)`} does not fit the target's context` +
        (env.context ? ` (${env.context.limit} tokens, ${env.context.reserve} kept for the answer)` : ""),
    },
    success: false,
    refused: false,
    notSent: {
      reason: "context",
      ...(promptTokens === undefined ? {} : { promptTokens }),
      ...(env.context ? { limit: env.context.limit, reserve: env.context.reserve } : {}),
    },
    calls: meter.calls,
    tokens: meter.tokens,
  });
  if (p.steps.at(-1)?.kind === "multiturn") {
    const r = await runMultiTurn(p, env, meter);
    if (r.stopReason === "context_full" && r.turns.length === 0) return notSent(r.conversation, r.contextTokens);
    const sent = r.conversation.at(-1)?.role === "assistant" ? r.conversation.slice(0, -1) : r.conversation;
    const attack: Attack = { ...attackBase, conversation: sent };
    const response: Response = {
      id: contentHash({ attack: p.id, conversation: sent, content: r.response }),
      model: env.target.id,
      conversation: sent,
      content: r.response,
      // the turn that represents the attack was blocked by the deployment's filter, with the categories it named
      finishReason: r.blocked ? "content_filter" : "stop",
      ...(r.blocked?.filter ? { filter: r.blocked.filter } : {}),
    };
    return {
      id: rid,
      attack,
      probe,
      techniqueId: p.techniqueId,
      target: p.target,
      response,
      judgement: r.judgement,
      success: r.success,
      refused: isRefusal(r.judgement),
      multiTurn: {
        strategy: r.strategy,
        stopReason: r.stopReason,
        backtracks: r.backtracks,
        keptTurns: r.keptTurns,
        turns: r.turns,
      },
      calls: r.calls + meter.calls,
      tokens: r.tokens + meter.tokens,
    };
  }
  const r = await runSingleTurn(p, env, meter);
  if (r.notSent) return notSent(r.conversation, r.notSent.promptTokens);
  return {
    id: rid,
    attack: { ...attackBase, conversation: r.conversation },
    probe,
    techniqueId: p.techniqueId,
    target: p.target,
    response: {
      id: contentHash({ attack: p.id, content: r.content }),
      model: r.model || env.target.id,
      conversation: r.conversation,
      content: r.content,
      finishReason: r.finishReason,
      ...(r.filter ? { filter: r.filter } : {}),
      usage: r.usage,
    },
    judgement: r.judgement,
    success: isSuccess(r.judgement, crit),
    refused: isRefusal(r.judgement),
    ...(r.decodedVia ? { decodedVia: r.decodedVia } : {}),
    ...(r.context && env.context ? { context: { ...r.context, limit: env.context.limit } } : {}),
    calls: meter.calls,
    tokens: meter.tokens,
  };
}

export async function runCampaign(plan: readonly PlannedAttack[], env: CampaignEnv): Promise<CampaignRunResult> {
  if (!Number.isInteger(env.concurrency) || env.concurrency < 1) {
    throw new Error(`campaign: concurrency must be a positive integer, got ${env.concurrency}`);
  }
  const started = Date.now();
  const results = new Map<string, AttackRecord>();
  const failed: { id: string; error: string }[] = [];
  let fromStore = 0;
  let ran = 0;
  let calls = 0;
  let notStarted = 0;
  const todo: PlannedAttack[] = [];
  for (const p of plan) {
    const have = env.store.getRecord(recordIdOf(p, env));
    if (have) {
      results.set(p.id, have);
      fromStore++;
      // what a killed run already spent counts against maxModelCalls: a resumed run does not get a fresh budget
      calls += have.calls ?? 0;
    } else todo.push(p);
  }
  const progress = () => {
    const elapsedMs = Date.now() - started;
    const finished = ran + failed.length;
    const left = todo.length - finished - notStarted;
    env.onProgress?.({
      total: plan.length,
      done: fromStore + ran,
      fromStore,
      failed: failed.length,
      successes: [...results.values()].filter((r) => r.success).length,
      elapsedMs,
      etaMs: finished > 0 ? (elapsedMs / finished) * left : undefined,
    });
  };
  progress();
  const limit = pLimit(env.concurrency);
  await Promise.all(
    todo.map((p) =>
      limit(async () => {
        if (env.signal?.aborted) return;
        if (env.maxModelCalls !== undefined && calls >= env.maxModelCalls) {
          notStarted++;
          return;
        }
        try {
          const rec = await executeAttack(p, env);
          calls += rec.calls;
          env.store.putRecord(rec);
          // Read back what the store holds (a concurrent writer of the same id wins; results stay consistent).
          results.set(p.id, env.store.getRecord(rec.id) ?? rec);
          ran++;
        } catch (err) {
          failed.push({ id: p.id, error: (err as Error).message });
        }
        progress();
      }),
    ),
  );
  const records = plan.map((p) => results.get(p.id)).filter((r): r is AttackRecord => r !== undefined);
  return { records, ran, fromStore, failed, notStarted, calls };
}
