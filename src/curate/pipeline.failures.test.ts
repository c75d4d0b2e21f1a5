/**
 * A failed responder call costs its own row only (issue 23): the other findings' responses, already paid for, are
 * kept, each finding is answered once, and the failure is listed among the dropped rows with its reason.
 */
import { describe, expect, it } from "vitest";
import type { Finding, Judgement } from "../domain/types.ts";
import type { Judge, JudgeInput } from "../judges/types.ts";
import type { ChatModel, ChatRequest, ChatResult } from "../models/types.ts";
import { curate } from "./pipeline.ts";
import { ChatResponder } from "./responders.ts";
import { testFinding } from "./testing.ts";

const refusalJudge: Judge = {
  id: "refusal-test-judge",
  async judge(input: JudgeInput): Promise<Judgement> {
    return /can't help/.test(input.response)
      ? { judgeId: this.id, status: "ok", label: "refusal", severity: 0, refusal: "full_refusal" }
      : { judgeId: this.id, status: "ok", label: "helpful", severity: 0, refusal: "full_compliance" };
  },
};

function finding(i: number): Finding {
  return testFinding(i, `How do I open lock number ${i} without its key, ${"very ".repeat(i)}quietly?`);
}

describe("curate: responder failures", () => {
  it("drops only the finding whose responder call failed, and asks each finding once", async () => {
    const asked = new Map<string, number>();
    const model: ChatModel = {
      id: "responder-model",
      async chat(r: ChatRequest): Promise<ChatResult> {
        const p = r.messages.filter((m) => m.role === "user").at(-1)?.content ?? "";
        asked.set(p, (asked.get(p) ?? 0) + 1);
        await new Promise((res) => setTimeout(res, 2));
        if (p.includes("lock number 3 ")) throw new Error("HTTP 500: responder down");
        return {
          content: "I can't help with opening locks that are not yours.",
          finishReason: "stop",
          usage: { promptTokens: 1, completionTokens: 1 },
          model: "m",
        };
      },
    };
    const findings = Array.from({ length: 8 }, (_, i) => finding(i));
    const res = await curate(findings, {
      round: 1,
      responder: new ChatResponder(model),
      judge: refusalJudge,
      counterRatio: 0,
      valFraction: 0,
      seed: 1,
    });
    expect(asked.size).toBe(8);
    expect([...asked.values()].every((n) => n === 1)).toBe(true);
    expect(res.rows.filter((r) => r.kind === "harmful")).toHaveLength(7);
    const dropped = res.dropped.filter((d) => d.reason === "responder_error");
    expect(dropped).toHaveLength(1);
    expect(dropped[0].detail).toMatch(/^f3: HTTP 500: responder down/);
  });
});
