/**
 * The regression suite: every attack that succeeded in an earlier round's campaign is replayed (same conversation,
 * greedy decoding) against each later model and judged again. An attack that a later model had fixed and that
 * succeeds again is a regression. Replays are stored one by one (artefact kind "cycle.replay"), so a killed replay
 * resumes where it stopped. A replay whose request fails (after the model's own retries) is not stored and never costs
 * its neighbours: the others of its chunk are judged and stored, and the step then fails with ReplayFailedError, so
 * the cycle does not record a partial regression step and the next run sends only the failed replays (issue 23).
 * A replay the judge could not judge (status unjudged) is returned, marked `unjudged`, but not stored, so a re-run of
 * the step judges it again; it is neither a success nor a fix (never "fixed", so a later success is no regression).
 */
import { etaText } from "../domain/eta.ts";
import type { Conversation } from "../domain/types.ts";
import type { Judge } from "../judges/types.ts";
import { type ChatModel, chatAllSettled, type SamplingParams } from "../models/types.ts";
import type { AttackRecord } from "../redteam/campaign/types.ts";
import { isSuccess, type SuccessCriterion } from "../redteam/outcome.ts";
import type { Regression } from "../report/types.ts";
import type { Store } from "../store/store.ts";
import { throttled } from "./progress.ts";

export const REPLAY_KIND = "cycle.replay";

/** Some replays failed; the others are stored. Re-running the step sends only the failed ones. */
export class ReplayFailedError extends Error {
  constructor(
    readonly failed: number,
    readonly total: number,
    readonly firstError: unknown,
  ) {
    super(
      `regression replay: ${failed} of ${total} replays failed (${firstError instanceof Error ? firstError.message : String(firstError)}); the others are stored, re-run to retry the failed ones`,
    );
    this.name = "ReplayFailedError";
  }
}

export interface Replay {
  recordId: string;
  /** The round whose campaign found the attack. */
  foundInRound: number;
  /** The round whose model this replay ran against. */
  round: number;
  success: boolean;
  severity?: number;
  label: string;
  response: string;
  /** The judge could not judge it (set only then): not a success, and not a fix either. */
  unjudged?: true;
}

export interface ReplaySummary {
  round: number;
  replayed: number;
  stillBroken: number;
  regressions: Regression[];
}

function promptPart(conv: Conversation): Conversation {
  let end = conv.length;
  while (end > 0 && conv[end - 1].role === "assistant") end--;
  return conv.slice(0, end);
}

export async function replayAttacks(
  store: Store,
  runId: string,
  round: number,
  attacks: readonly { record: AttackRecord; foundInRound: number }[],
  model: ChatModel,
  judge: Judge,
  o: {
    sampling: SamplingParams;
    /** What counts as a success (the scenario's red-team criterion). */
    success: SuccessCriterion;
    chunk?: number;
    /** After each chunk: replays done (stored ones included), in all, and the time left (ms; undefined: unknown). */
    onProgress?: (done: number, total: number, etaMs: number | undefined) => void;
  },
): Promise<Replay[]> {
  const key = (recordId: string) => ({ runId, round, recordId });
  const out: Replay[] = [];
  const todo: { record: AttackRecord; foundInRound: number }[] = [];
  for (const a of attacks) {
    const hit = store.artifacts.get<Replay>(REPLAY_KIND, key(a.record.id));
    if (hit) out.push(hit);
    else todo.push(a);
  }
  const chunk = o.chunk ?? 16;
  const fromStore = out.length;
  const t0 = Date.now();
  const criterion = o.success;
  let failed = 0;
  let firstError: unknown;
  for (let i = 0; i < todo.length; i += chunk) {
    const batch = todo.slice(i, i + chunk);
    const results = await chatAllSettled(
      model,
      batch.map((a) => ({
        messages: promptPart(a.record.attack.conversation),
        temperature: o.sampling.temperature,
        maxTokens: o.sampling.maxTokens,
      })),
    );
    const replays: Replay[] = [];
    for (let j = 0; j < batch.length; j++) {
      const a = batch[j].record;
      const settled = results[j];
      if (!settled.ok) {
        failed++;
        firstError ??= settled.error;
        continue;
      }
      const response = settled.result.content;
      const judgement = await judge.judge({
        conversation: promptPart(a.attack.conversation),
        response,
        category: a.probe.category,
        language: a.attack.language,
        probeId: a.probe.id,
        goal: a.attack.goal,
      });
      const r: Replay = {
        recordId: a.id,
        foundInRound: batch[j].foundInRound,
        round,
        success: isSuccess(judgement, criterion),
        label: judgement.label,
        response,
      };
      if (judgement.severity !== undefined) r.severity = judgement.severity;
      if (judgement.status !== "ok") r.unjudged = true;
      replays.push(r);
    }
    // First write wins: an unjudged replay stored here would be read back as final by every re-run.
    store.transaction(() => {
      for (const r of replays) if (!r.unjudged) store.artifacts.put(REPLAY_KIND, key(r.recordId), r, runId);
    });
    out.push(...replays);
    // The time left from this run's own pace (replays read back from the store cost nothing).
    const sent = i + batch.length;
    o.onProgress?.(fromStore + sent, attacks.length, ((Date.now() - t0) / sent) * (todo.length - sent));
  }
  if (failed > 0) throw new ReplayFailedError(failed, todo.length, firstError);
  const order = new Map(attacks.map((a, i) => [a.record.id, i]));
  return out.sort((a, b) => (order.get(a.recordId) ?? 0) - (order.get(b.recordId) ?? 0));
}

/**
 * Regressions at `round`: attacks that succeed against this round's model although some earlier model after their
 * discovery had resisted them (the break was fixed, then came back).
 */
export function findRegressions(
  history: readonly Replay[],
  current: readonly Replay[],
  attackInfo: (recordId: string) => { technique: string; category: string; language: string },
): Regression[] {
  const out: Regression[] = [];
  for (const r of current) {
    if (!r.success) continue;
    const fixed = history
      .filter((h) => h.recordId === r.recordId && h.round < r.round && isFix(h))
      .sort((a, b) => b.round - a.round)[0];
    if (!fixed) continue;
    out.push({
      attackId: r.recordId,
      ...attackInfo(r.recordId),
      fixedInRound: fixed.round,
      reappearedInRound: r.round,
    });
  }
  return out;
}

/**
 * Whether a replay shows the attack fixed: it failed, and was judged. Replays stored before `unjudged` existed carry
 * the judges' "unjudged" label only.
 */
function isFix(r: Omit<Replay, "response">): boolean {
  return !r.success && !r.unjudged && r.label !== "unjudged";
}

export interface RegressionStepResult {
  replayed: number;
  stillBroken: number;
  regressions: Regression[];
  replays: Omit<Replay, "response">[];
}

/**
 * The regression step of round r: every successful attack of rounds 1..r (from the break steps' records) replayed
 * against the round's model; regressions against the earlier rounds' replays.
 */
export async function regressionStep(
  store: Store,
  runId: string,
  round: number,
  attacks: readonly { record: AttackRecord; foundInRound: number }[],
  history: readonly Omit<Replay, "response">[],
  model: ChatModel,
  judge: Judge,
  o: {
    sampling: SamplingParams;
    success: SuccessCriterion;
    log: (l: string) => void;
    /** The replay counts with an ETA (default: log). */
    progress?: (l: string) => void;
  },
): Promise<RegressionStepResult> {
  const progress = throttled(5000);
  const replays = await replayAttacks(store, runId, round, attacks, model, judge, {
    sampling: o.sampling,
    success: o.success,
    onProgress: (d, t, etaMs) => {
      if (progress(d >= t)) (o.progress ?? o.log)(`round ${round}: regression replay ${d}/${t} ETA ${etaText(etaMs)}`);
    },
  });
  const unjudged = replays.filter((x) => x.unjudged).length;
  if (unjudged > 0)
    o.log(
      `round ${round}: regression replay: the judge could not judge ${unjudged} replays (neither broken nor fixed)`,
    );
  const info = new Map(attacks.map((a) => [a.record.id, a.record]));
  const regressions = findRegressions(
    history.map((h) => ({ ...h, response: "" })),
    replays,
    (id) => {
      const rec = info.get(id);
      return {
        technique: rec?.techniqueId ?? "?",
        category: rec?.probe.category ?? "?",
        language: rec?.attack.language ?? "?",
      };
    },
  );
  return {
    replayed: replays.length,
    stillBroken: replays.filter((x) => x.success).length,
    regressions,
    replays: replays.map((x) => ({
      recordId: x.recordId,
      foundInRound: x.foundInRound,
      round: x.round,
      success: x.success,
      label: x.label,
      ...(x.unjudged ? { unjudged: true as const } : {}),
    })),
  };
}
