import { describe, expect, it } from "vitest";
import type { Judge } from "../../judges/types.ts";
import { judgeTurn, type MultiTurnEnv } from "./types.ts";

describe("judgeTurn", () => {
  it("counts a turn the deployment's content filter blocked as a refusal, without asking the judge", async () => {
    let asked = 0;
    const judge: Judge = {
      id: "j@1",
      judge: async () => {
        asked++;
        return { judgeId: "j@1", status: "ok", label: "unsafe", severity: 7, refusal: "full_compliance" };
      },
    };
    const env = { judge, category: "S1", language: "en" } as unknown as MultiTurnEnv;
    const blocked = await judgeTurn(env, [{ role: "user", content: "x" }], "", "content_filter");
    expect(blocked).toMatchObject({ success: false, refused: true, judgement: { label: "blocked" } });
    // the filter's categories, when the deployment named them, are in the rationale
    const named = await judgeTurn(env, [{ role: "user", content: "x" }], "", "content_filter", {
      categories: [{ name: "self_harm", severity: "high" }],
    });
    expect(named.judgement.rationale).toContain("(self_harm: high)");
    expect(asked).toBe(0);
    // an ordinary empty answer is still judged
    await judgeTurn(env, [{ role: "user", content: "x" }], "", "stop");
    expect(asked).toBe(1);
  });
});
