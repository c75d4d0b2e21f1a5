/** Unit tests of the cycle's pure parts: gates, release candidate, regressions, held-out families, step records. */
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../config/load.ts";
import { type RoundMetrics, reviveRoundMetrics } from "../domain/round-metrics.ts";
import type { Metric } from "../domain/types.ts";
import { Store } from "../store/store.ts";
import { genericVariantFamilies as variantFamilies } from "./from-config.ts";
import { allPassed, evaluateGates, releaseCandidate } from "./gates.ts";
import { heldoutDr } from "./measure.ts";
import { findRegressions, type Replay } from "./regression.ts";
import { Steps } from "./steps.ts";

const m = (value: number): Metric => ({ name: "x", value, n: 100, successes: Math.round(value * 100) });

function measurement(p: Partial<Record<keyof RoundMetrics, unknown>> = {}): RoundMetrics {
  return {
    model: "m",
    runIds: {},
    harmfulDr: m(0.02),
    jailbreakDr: m(0.05),
    heldoutDr: m(0.1),
    multiturnDr: m(0),
    iprr: m(0.95),
    vprr: m(0.05),
    capability: m(0.8),
    drByLanguage: { en: m(0.02), es: m(0.03) },
    dr3ByCategory: { S1: m(0.01), S2: m(0.04) },
    drByCategory: {},
    jailbreakByTechnique: {},
    harmfulOutcomes: { refused: m(0.9), unsafe: m(0.02), other: m(0.08) },
    benignOutcomes: { helpful: m(0.9), refused: m(0.05), other: m(0.05) },
    skipped: {},
    ...p,
  } as RoundMetrics;
}

const gates = defaultConfig().cycle.gates;

describe("release gates", () => {
  it("pass when every figure is within its threshold", () => {
    const g = evaluateGates(measurement(), measurement(), gates);
    expect(g.map((x) => x.passed)).toEqual([true, true, true, true, true, true, true]);
    expect(allPassed(g)).toBe(true);
  });

  it("name the failed gate: worst category, jailbreak DR, VPRR, IPRR, capability drop", () => {
    const bad = measurement({
      dr3ByCategory: { S1: m(0.01), S9: m(0.2) },
      jailbreakDr: m(0.3),
      vprr: m(0.5),
      iprr: m(0.5),
      capability: m(0.7),
      harmfulOutcomes: { refused: m(0.5), unsafe: m(0.1), other: m(0.4) },
      benignOutcomes: { helpful: m(0.2), refused: m(0.5), other: m(0.3) },
    });
    const g = evaluateGates(bad, measurement(), gates);
    expect(g.filter((x) => !x.passed).map((x) => x.name)).toEqual([
      "DR-3 per category (worst: S9)",
      "jailbreak DR",
      "VPRR",
      "IPRR",
      "capability drop vs round 0",
      "harmful other (neither refused nor unsafe)",
      "benign other (neither helpful nor refused) rise vs round 0",
    ]);
    expect(g[4].value).toBeCloseTo(0.1);
  });

  it("fail an unmeasured figure rather than pass it", () => {
    const g = evaluateGates(measurement({ vprr: { name: "VPRR", value: Number.NaN, n: 0 } }), measurement(), gates);
    expect(g.find((x) => x.name === "VPRR")?.passed).toBe(false);
  });

  it("fail DR-3 per category when a category is unmeasured (every judgement failed), never pass it", () => {
    const none = { name: "x", value: Number.NaN, n: 0 };
    const dr3 = (cats: RoundMetrics["dr3ByCategory"]) =>
      evaluateGates(measurement({ dr3ByCategory: cats }), measurement(), gates).find((g) =>
        g.name.startsWith("DR-3 per category"),
      );
    // no category measured at all
    expect(dr3({ S1: none, S2: none })).toMatchObject({
      passed: false,
      name: "DR-3 per category (unmeasured: S1, S2)",
    });
    // one measured and clean, one not: its DR-3 is unknown, so the gate is too
    const mixed = dr3({ S1: m(0), S2: none });
    expect(mixed).toMatchObject({ passed: false, name: "DR-3 per category (unmeasured: S2)" });
    expect(mixed?.value).toBeNaN();
    // after a step record's JSON round trip the NaN is null: still unmeasured
    const stored = JSON.parse(JSON.stringify({ S1: m(0), S2: none }));
    expect(dr3(stored)?.passed).toBe(false);
    expect(dr3({})).toMatchObject({ passed: false, name: "DR-3 per category (worst: none)" });
    expect(dr3({ S1: m(0.01), S2: m(0.04) })).toMatchObject({ passed: true, name: "DR-3 per category (worst: S2)" });
  });

  it("choose the release candidate among trained rounds by gates passed, then harmful DR", () => {
    const pass = (n: number) => Array.from({ length: 5 }, (_, i) => ({ passed: i < n }) as never);
    expect(
      releaseCandidate([
        { round: 0, gates: pass(5), harmfulDr: 0 },
        { round: 1, gates: pass(3), harmfulDr: 0.1 },
        { round: 2, gates: pass(4), harmfulDr: 0.2 },
        { round: 3, gates: pass(4), harmfulDr: 0.15 },
      ]),
    ).toBe(3);
    expect(releaseCandidate([{ round: 0, gates: pass(0), harmfulDr: 1 }])).toBe(-1);
  });
});

describe("regression suite", () => {
  const r = (recordId: string, round: number, success: boolean): Replay => ({
    recordId,
    foundInRound: 1,
    round,
    success,
    label: success ? "unsafe" : "refusal",
    response: "",
  });
  const info = () => ({ technique: "roleplay", category: "S1", language: "en" });

  it("flags a fixed break that reappears, and nothing else", () => {
    const history = [r("a", 1, false), r("b", 1, true), r("c", 1, false), r("c", 2, true)];
    const current = [r("a", 3, true), r("b", 3, true), r("c", 3, true), r("d", 3, true), r("e", 3, false)];
    const regs = findRegressions(history, current, info);
    expect(regs.map((x) => [x.attackId, x.fixedInRound, x.reappearedInRound])).toEqual([
      ["a", 1, 3],
      ["c", 1, 3],
    ]);
  });
});

describe("unmeasured figures", () => {
  it("stay unmeasured after a step record's JSON round trip: the gate fails and never reads null as 0", () => {
    const none = { name: "capability", value: Number.NaN, n: 0 };
    const m = measurement({ capability: none, jailbreakDr: { ...none, name: "jailbreak DR" } });
    const stored = JSON.parse(JSON.stringify(m)) as RoundMetrics; // NaN -> null, as the store keeps it
    expect(stored.capability.value).toBeNull();
    const naive = evaluateGates(stored, stored, gates);
    expect(naive.find((g) => g.name.startsWith("capability"))?.passed).toBe(true); // the bug this guards against
    const revived = reviveRoundMetrics(stored, "test");
    const g = evaluateGates(revived, revived, gates);
    expect(g.find((x) => x.name.startsWith("capability"))?.passed).toBe(false);
    expect(g.find((x) => x.name === "jailbreak DR")?.passed).toBe(false);
    expect(revived.harmfulDr).toEqual(m.harmfulDr);
  });

  it("step records written with the earlier snake_case names read the same; anything else is a clear error", () => {
    const m = measurement({ capability: { name: "capability", value: Number.NaN, n: 0 } });
    const legacy: Record<string, unknown> = JSON.parse(JSON.stringify(m));
    const snake = {
      harmfulDr: "harmful_dr",
      jailbreakDr: "jailbreak_dr",
      heldoutDr: "heldout_dr",
      multiturnDr: "multiturn_dr",
      drByLanguage: "dr_by_language",
      dr3ByCategory: "dr3_by_category",
      drByCategory: "dr_by_category",
      jailbreakByTechnique: "jailbreak_by_technique",
    };
    for (const [now, old] of Object.entries(snake)) {
      legacy[old] = legacy[now];
      delete legacy[now];
    }
    const revived = reviveRoundMetrics(legacy, "old record");
    expect(revived).toEqual(m);
    expect(() => reviveRoundMetrics([], "run x round 1 measure step")).toThrow(/run x round 1 measure step: expected/);
    expect(() => reviveRoundMetrics({ harmful_dr: 0.3 }, "rec")).toThrow(/rec: harmfulDr: expected a metric/);
  });
});

describe("held-out technique families", () => {
  it("maps jailbreak variants named after converters and framings to the red team's families", () => {
    expect(variantFamilies("rot13")).toEqual(["encoding"]);
    expect(variantFamilies("leetspeak")).toEqual(["obfuscation"]);
    expect(variantFamilies("rt:rot13+hypothetical")).toEqual(["encoding", "hypothetical"]);
    expect(variantFamilies("roleplay")).toContain("roleplay");
  });

  it("measures DR only on items whose technique touches a held-out family", () => {
    const rec = (variant: string, severity: number) =>
      ({
        variant,
        judgement: { judgeId: "w", status: "ok", label: severity ? "unsafe" : "refusal", severity },
      }) as never;
    const d = heldoutDr(
      [rec("rot13", 4), rec("rot13", 0), rec("roleplay", 5), rec("rt:rot13+fiction", 0)],
      ["encoding"],
      variantFamilies,
    );
    expect(d.n).toBe(3);
    expect(d.value).toBeCloseTo(1 / 3);
  });
});

describe("step records", () => {
  it("run a step once, record its result, and skip it on a re-run", async () => {
    const store = Store.openFile(":memory:");
    const events: string[] = [];
    const steps = new Steps(store, "a".repeat(64), (e) => events.push(`${e.round}:${e.step}:${e.event}`));
    let calls = 0;
    const fn = async () => ({ n: ++calls });
    expect(await steps.run(1, "break", fn)).toEqual({ n: 1 });
    expect(await steps.run(1, "break", fn)).toEqual({ n: 1 });
    expect(calls).toBe(1);
    expect(events).toEqual(["1:break:start", "1:break:done", "1:break:skip"]);
    // A step that failed half-way is resumed (started again, reported as a resume).
    await expect(steps.run(1, "curate", async () => Promise.reject(new Error("killed")))).rejects.toThrow("killed");
    expect(await steps.run(1, "curate", async () => 7)).toBe(7);
    expect(events.slice(-2)).toEqual(["1:curate:resume", "1:curate:done"]);
    store.close();
  });
});
