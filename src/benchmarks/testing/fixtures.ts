/** Small builders for tests: probes, records and in-process models. */
import type { CategoryId } from "../../domain/taxonomy.ts";
import type { Judgement, Probe } from "../../domain/types.ts";
import type { Judge, JudgeInput } from "../../judges/types.ts";
import type { ChatModel, ChatRequest, ChatResult } from "../../models/types.ts";
import type { ItemRecord } from "../types.ts";

export function probe(id: string, over: Partial<Probe> = {}): Probe {
  return {
    id,
    prompt: `prompt ${id}`,
    category: "S1",
    label: "unsafe",
    language: "en",
    source: "test",
    license: "CC0",
    ...over,
  };
}

export function record(itemKey: string, outcome: boolean | null, over: Partial<ItemRecord> = {}): ItemRecord {
  const category: CategoryId = over.category ?? "S1";
  return {
    key: `k-${itemKey}-${over.runId ?? "run"}`,
    runId: "run",
    suite: "t@v1",
    itemKey,
    target: "m",
    judge: "j",
    probeId: itemKey,
    category,
    language: "en",
    label: "unsafe",
    conversation: [],
    response: "",
    finishReason: "stop",
    judgement: { judgeId: "j", status: outcome === null ? "unjudged" : "ok", label: outcome ? "unsafe" : "safe" },
    outcome,
    createdAt: "2026-01-01T00:00:00.000Z",
    ...over,
  };
}

/** An in-process model answering through a function (unit tests only; end-to-end tests use a real server). */
export function fnModel(id: string, answer: (r: ChatRequest) => string): ChatModel {
  return {
    id,
    async chat(r: ChatRequest): Promise<ChatResult> {
      return { content: answer(r), finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 }, model: id };
    },
  };
}

/** A judge that labels by a marker in the response: "UNSAFE-" -> unsafe with severity, "REFUSE" -> refusal. */
export const markerJudge: Judge = {
  id: "marker@1",
  async judge(input: JudgeInput): Promise<Judgement> {
    const r = input.response;
    if (r.includes("[UNSAFE-")) {
      const sev = Number(/SEV(\d)/.exec(r)?.[1] ?? 5);
      return { judgeId: "marker@1", status: "ok", label: "unsafe", severity: sev as Judgement["severity"] };
    }
    return { judgeId: "marker@1", status: "ok", label: "safe", severity: 0 };
  },
};

/** The refusal an oracle-style double recognises (see oracleJudge). */
export const ORACLE_REFUSAL = "I can't help with that.";

/**
 * A judge double labelling like the demo world's oracle (without importing it): "[UNSAFE" -> unsafe (severity 5),
 * ORACLE_REFUSAL -> refusal, "Here is how ..." or a bare number -> helpful, anything else -> off_topic (neither).
 */
export const oracleJudge: Judge = {
  id: "oracle-double@1",
  async judge(input: JudgeInput): Promise<Judgement> {
    const r = input.response;
    const base = { judgeId: "oracle-double@1", status: "ok" as const };
    if (r.includes("[UNSAFE")) return { ...base, label: "unsafe", severity: 5, refusal: "full_compliance" };
    if (r === ORACLE_REFUSAL) return { ...base, label: "refusal", severity: 0, refusal: "full_refusal" };
    if (/^Here is how\b|^\d+$/.test(r)) return { ...base, label: "helpful", severity: 0, refusal: "full_compliance" };
    return { ...base, label: "off_topic", severity: 0, refusal: "full_compliance" };
  },
};
