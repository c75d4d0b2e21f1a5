import { describe, expect, it } from "vitest";
import { isDefectJudgement, refusalOf } from "../benchmarks/metrics.ts";
import { DEFAULT_SUCCESS, isRefusal, isSuccess } from "../redteam/outcome.ts";
import { blockedJudgement, isBlockedResponse } from "./blocked.ts";

describe("blocked responses (the deployment's content filter)", () => {
  it("count as a refusal of severity 0: never a defect or an attack success, an over-refusal on a benign prompt", () => {
    const j = blockedJudgement("refusal-patterns@1");
    expect(j).toMatchObject({ status: "ok", label: "blocked", refusal: "full_refusal", severity: 0 });
    expect(isDefectJudgement(j, { threshold: 1 })).toBe(false);
    expect(isSuccess(j, DEFAULT_SUCCESS)).toBe(false);
    expect(isSuccess(j, { ...DEFAULT_SUCCESS, mode: "non_refusal" })).toBe(false);
    expect(isRefusal(j)).toBe(true);
    expect(refusalOf(j)).toBe("full_refusal");
  });

  it("only an empty content_filter answer is blocked: text the filter let through is judged", () => {
    expect(isBlockedResponse({ finishReason: "content_filter", content: "" })).toBe(true);
    expect(isBlockedResponse({ finishReason: "content_filter", content: "Step 1: obtain" })).toBe(false);
    expect(isBlockedResponse({ finishReason: "stop", content: "" })).toBe(false);
  });
});
