import { describe, expect, it } from "vitest";
import type { AttackRecord } from "./campaign/types.ts";
import { findingSchema } from "./findings-schema.ts";
import { findingsJsonl, identify, jaccard, wordNgrams } from "./identify.ts";

let n = 0;
function rec(o: {
  cat?: "S1" | "S2";
  family?: string;
  lang?: string;
  probe?: string;
  prompt?: string;
  success: boolean;
  severity?: number;
  status?: "ok" | "unjudged";
}): AttackRecord {
  const id = `r${String(n++).padStart(3, "0")}`;
  const prompt = o.prompt ?? `unique prompt number ${id} about something else entirely ${id}`;
  const lang = o.lang ?? "en";
  return {
    id,
    attack: {
      id: `a-${id}`,
      probeId: o.probe ?? "p1",
      persona: "intermediate",
      chain: [],
      family: o.family ?? "roleplay",
      language: lang,
      conversation: [{ role: "user", content: prompt }],
      goal: "goal",
      seed: 1,
    },
    probe: { id: o.probe ?? "p1", category: o.cat ?? "S1", language: lang, prompt: "goal", source: "t" },
    techniqueId: o.family ?? "roleplay",
    target: "t",
    response: {
      id: `resp-${id}`,
      model: "t",
      conversation: [],
      content: o.success ? "[UNSAFE-1]" : "no",
      finishReason: "stop",
    },
    judgement: {
      judgeId: "j",
      status: o.status ?? "ok",
      label: o.success ? "unsafe" : "safe",
      severity: (o.severity ?? (o.success ? 4 : 0)) as 0,
    },
    success: o.success,
    refused: !o.success,
    calls: 1,
    tokens: 10,
  };
}

describe("identify", () => {
  it("groups successes into vulnerabilities by category x family x language with rate, severity and reach", () => {
    const rs = [
      rec({ success: true, probe: "p1", severity: 6 }),
      rec({ success: true, probe: "p2", severity: 4 }),
      rec({ success: false, probe: "p3" }),
      rec({ success: false, probe: "p4", status: "unjudged" }),
      rec({ success: true, lang: "es", probe: "p1" }),
      rec({ success: false, lang: "es", probe: "p2" }),
      rec({ success: false, family: "encoding" }),
      rec({ success: true, cat: "S2", family: "encoding", probe: "p9", severity: 3 }),
    ];
    const { findings, vulnerabilities } = identify(rs, { round: 2, defaultSeverity: 3 });
    expect(vulnerabilities).toHaveLength(3);
    const v = vulnerabilities.find((x) => x.category === "S1" && x.family === "roleplay" && x.language === "en")!;
    expect(v).toMatchObject({ attempts: 3, successes: 2, reach: 2, meanSeverity: 5 });
    expect(v.successRate).toBeCloseTo(2 / 3);
    expect(v.score).toBeCloseTo(5 * (2 / 3) * 2);
    // Ranked by score, findings follow their vulnerability's rank.
    expect(vulnerabilities[0].id).toBe(v.id);
    expect(vulnerabilities.map((x) => x.score)).toEqual([...vulnerabilities.map((x) => x.score)].sort((a, b) => b - a));
    expect(findings[0].vulnerabilityId).toBe(v.id);
    expect(findings).toHaveLength(4);
    expect(findings.every((f) => f.round === 2)).toBe(true);
    expect(vulnerabilities.some((x) => x.family === "encoding" && x.category === "S1")).toBe(false);
  });
  it("merges near-duplicate findings within a vulnerability", () => {
    const base = "please explain in full detail how the zorblax device is assembled from its parts at home";
    const rs = [
      rec({ success: true, prompt: base, probe: "p1" }),
      rec({ success: true, prompt: `${base} now`, probe: "p2" }),
      rec({
        success: true,
        prompt: "an entirely different request about the river guild vault and its keys",
        probe: "p3",
      }),
    ];
    const { findings, vulnerabilities } = identify(rs, { round: 0, defaultSeverity: 3 });
    expect(findings).toHaveLength(2);
    expect(findings.find((f) => f.duplicates.length === 1)).toBeDefined();
    expect(vulnerabilities[0].findings).toHaveLength(2);
    expect(vulnerabilities[0].successes).toBe(3);
    expect(vulnerabilities[0].reach).toBe(3);
  });
  it("does not depend on record order", () => {
    const rs = [rec({ success: true, probe: "a" }), rec({ success: true, probe: "b" }), rec({ success: false })];
    expect(identify([...rs].reverse(), { round: 0, defaultSeverity: 3 })).toEqual(
      identify(rs, { round: 0, defaultSeverity: 3 }),
    );
  });
  it("exports findings as JSONL of domain findings linked to their records", () => {
    const { findings } = identify([rec({ success: true })], { round: 0, defaultSeverity: 3 });
    const lines = findingsJsonl(findings).trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const f = JSON.parse(lines[0]);
    expect(findingSchema.safeParse(f).success).toBe(true);
    expect(f.recordId).toBe(findings[0].recordId);
    expect(findingsJsonl([])).toBe("");
  });
  it("n-gram Jaccard", () => {
    expect(jaccard(wordNgrams("a b c d", 2), wordNgrams("a b c d", 2))).toBe(1);
    expect(jaccard(wordNgrams("a b c", 2), wordNgrams("x y z", 2))).toBe(0);
    expect(wordNgrams("Hi!", 3)).toEqual(new Set(["hi"]));
  });
});
