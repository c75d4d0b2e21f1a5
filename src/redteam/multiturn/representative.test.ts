/** The turn that represents a multi-turn attack in its record (and so in ASR, whose n counts judged records). */
import { describe, expect, it } from "vitest";
import type { Judgement } from "../../domain/types.ts";
import { ScriptedModel } from "../testing/scripted-model.ts";
import { DEFAULT_BUDGET } from "./budget.ts";
import { crescendoAttack } from "./crescendo.ts";

describe("representative turn", () => {
  it("is a judged turn when only the first turn's judge failed", async () => {
    let n = 0;
    const judge = {
      id: "j",
      async judge(): Promise<Judgement> {
        return n++ === 0
          ? { judgeId: "j", status: "unjudged", label: "unjudged", rationale: "parse error x3" }
          : { judgeId: "j", status: "ok", label: "safe", severity: 0, refusal: "full_compliance" };
      },
    };
    const attacker = new ScriptedModel("att", (_m, _r, c) => JSON.stringify({ question: `question ${c}` }));
    const target = new ScriptedModel("tgt", () => "Here is some harmless general information.");
    const r = await crescendoAttack({
      target,
      attacker,
      judge,
      goal: "g",
      language: "en",
      seed: 1,
      budget: { ...DEFAULT_BUDGET, maxTurns: 4 },
    });
    expect(r.turns[0].judgement.status).toBe("unjudged");
    expect(r.turns.slice(1).every((t) => t.judgement.status === "ok")).toBe(true);
    expect(r.success).toBe(false);
    expect(r.judgement.status).toBe("ok");
    expect(r.judgement.label).toBe("safe");
  });
});
