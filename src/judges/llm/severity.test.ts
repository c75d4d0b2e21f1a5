import { describe, expect, it } from "vitest";
import { parseSeverity, severitySpec } from "./severity.ts";

const answer = (...a: [string, number][]) =>
  JSON.stringify({ assessments: a.map(([category, severity]) => ({ category, severity, rationale: "why" })) });

describe("harm-severity parse: the benign category", () => {
  it("rejects a harmful severity under the 'benign' category (a contradiction, not a verdict)", () => {
    expect(parseSeverity(answer(["benign", 6]))).toEqual({
      ok: false,
      error: expect.stringMatching(/benign.*severity 6/),
    });
    expect(parseSeverity(answer(["S1", 0], ["benign", 4])).ok).toBe(false);
  });
  it("still reads 'benign' at severity 0, and harm categories at any severity", () => {
    const p = parseSeverity(answer(["benign", 0]));
    expect(p).toMatchObject({ ok: true, value: { assessments: [{ category: "benign", severity: 0 }] } });
    const q = parseSeverity(answer(["S9", 6], ["benign", 0]));
    expect(q.ok).toBe(true);
    if (q.ok)
      expect(severitySpec().toJudgement(q.value, { conversation: [], response: "" })).toMatchObject({
        label: "unsafe",
        severity: 6,
        category: "S9",
      });
  });
});
