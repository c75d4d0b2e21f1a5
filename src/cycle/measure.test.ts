/**
 * The measure step's splits and slices through the real runner: dev and test figures apart, a RoundMetrics per (split,
 * slice), `limit` per stratum, the outcome breakdown from the records, and a training probe refused by name.
 */
import { describe, expect, it } from "vitest";
import { MemorySink } from "../benchmarks/sink.ts";
import { createHarmfulSuite } from "../benchmarks/suites/harmful.ts";
import { createOverRefusalSuite } from "../benchmarks/suites/overrefusal.ts";
import { fnModel, ORACLE_REFUSAL, oracleJudge, probe } from "../benchmarks/testing/fixtures.ts";
import { reviveRoundMeasurement } from "../domain/round-metrics.ts";
import type { Probe } from "../domain/types.ts";
import type { ChatModel } from "../models/types.ts";
import { measureModel } from "./measure.ts";
import type { MeasuredSuite } from "./scenario.ts";

const SLICES = ["in-distribution", "out-of-distribution", "rephrased"];

/** 20 probes per (split, slice): dev has no out-of-distribution slice, as in the demo world. */
function harmfulProbes(): Probe[] {
  const out: Probe[] = [];
  for (const split of ["dev", "test"])
    for (const slice of SLICES) {
      if (split === "dev" && slice === "out-of-distribution") continue;
      for (let i = 0; i < 20; i++)
        out.push(probe(`${split}-${slice}-${i}`, { prompt: `${slice} ask ${i}`, meta: { split, slice } }));
    }
  return out;
}

// Unsafe on out-of-distribution asks, garbage on rephrased ones, refuses the rest; look-alikes answered.
const model = fnModel("m", (r) => {
  const u = r.messages.at(-1)?.content ?? "";
  if (u.startsWith("out-of-distribution")) return "[UNSAFE-X-1] SEV6 placeholder";
  if (u.startsWith("rephrased")) return "zzz zzz";
  if (u.startsWith("benign")) return "Here is how.";
  return ORACLE_REFUSAL;
});

const opts = (suites: MeasuredSuite[]) => ({
  suites,
  sink: new MemorySink(),
  sampling: { temperature: 0, maxTokens: 16 },
  heldOutFamilies: [],
  variantFamilies: (v: string) => [v],
  devShare: 0.3,
});

describe("measure step: dev, test and slices", () => {
  it("keeps dev and test apart, one figure set per (split, slice), limit per stratum", async () => {
    const lookalikes = Array.from({ length: 40 }, (_, i) =>
      probe(`o${i}`, {
        label: i % 2 ? "unsafe" : "safe",
        prompt: i % 2 ? `in-distribution twin ${i}` : `benign ${i}`,
        meta: { split: i % 4 < 2 ? "dev" : "test" },
      }),
    );
    const suites: MeasuredSuite[] = [
      {
        role: "harmful",
        limit: 8,
        suite: createHarmfulSuite({
          name: "m-harmful",
          probes: async () => harmfulProbes(),
          judge: oracleJudge,
          headlineThreshold: 1,
        }),
      },
      {
        role: "overrefusal",
        suite: createOverRefusalSuite({ name: "m-lookalikes", probes: async () => lookalikes, judge: oracleJudge }),
      },
    ];
    const m = await measureModel(model, opts(suites));
    expect(m.dev.harmfulDr.n).toBe(16); // 8 in-distribution + 8 rephrased
    expect(m.test.harmfulDr.n).toBe(24);
    expect(Object.keys(m.slices.dev)).toEqual(["in-distribution", "rephrased"]);
    expect(Object.keys(m.slices.test)).toEqual(SLICES);
    expect(m.slices.test["out-of-distribution"].harmfulDr).toMatchObject({ n: 8, value: 1 });
    expect(m.slices.test["in-distribution"].harmfulDr).toMatchObject({ n: 8, value: 0 });
    expect(m.dev.harmfulDr.value).toBe(0);
    expect(m.test.harmfulDr.value).toBeCloseTo(1 / 3);
    // outcomes: harmful prompts = the harmful suite plus the look-alikes' unsafe twins (refused)
    expect(m.test.harmfulOutcomes.other).toMatchObject({ successes: 8, n: 24 + 10 });
    expect(m.test.harmfulOutcomes.unsafe).toMatchObject({ successes: 8, n: 34 });
    expect(m.test.harmfulOutcomes.refused).toMatchObject({ successes: 18, n: 34 });
    expect(m.slices.dev.rephrased.harmfulOutcomes.other).toMatchObject({ value: 1, n: 8 });
    expect(m.dev.benignOutcomes.helpful).toMatchObject({ value: 1, n: 10 });
    expect(m.dev.iprr).toMatchObject({ value: 1, n: 10 });
    // every split and slice carries the model and the suites' run ids (one run per suite holds both splits)
    expect(m.test.runIds).toEqual(m.dev.runIds);
    expect(Object.keys(m.dev.runIds)).toHaveLength(2);
  });

  it("counts per suite the answers the deployment's content filter blocked (0 where none was), on every split", async () => {
    // the provider's filter blocks every rephrased ask (Azure: 400 content_filter with its categories)
    const filtered: ChatModel = {
      id: "filtered",
      async chat(r) {
        if (!(r.messages.at(-1)?.content ?? "").startsWith("rephrased")) return model.chat(r);
        const filter = { categories: [{ name: "violence", severity: "medium" }] };
        return {
          content: "",
          finishReason: "content_filter",
          filter,
          usage: { promptTokens: 1, completionTokens: 0 },
          model: "filtered",
        };
      },
    };
    const suites: MeasuredSuite[] = [
      {
        role: "harmful",
        limit: 8,
        suite: createHarmfulSuite({ name: "m-harmful", probes: async () => harmfulProbes(), judge: oracleJudge }),
      },
      {
        role: "overrefusal",
        suite: createOverRefusalSuite({
          name: "m-lookalikes",
          probes: async () => [probe("b0", { label: "safe", prompt: "benign 0", meta: { split: "test" } })],
          judge: oracleJudge,
        }),
      },
    ];
    const m = await measureModel(filtered, opts(suites));
    expect(m.test.blocked?.["m-harmful"]).toMatchObject({ successes: 8, n: 24 });
    expect(m.dev.blocked?.["m-harmful"]).toMatchObject({ successes: 8, n: 16, value: 0.5 });
    expect(m.dev.blocked?.["m-harmful"]?.interval).toMatchObject({ method: "wilson", level: 0.95 }); // a rate, as every figure
    expect(m.test.blocked?.["m-lookalikes"]).toMatchObject({ successes: 0, n: 1, value: 0 });
    expect(m.slices.test.rephrased.blocked?.["m-harmful"]).toMatchObject({ successes: 8, n: 8 });
    expect(m.slices.test["in-distribution"].blocked?.["m-harmful"]).toMatchObject({ successes: 0, n: 8 });
    // blocked answers are refusals in the figures (never unsafe), and counted apart
    expect(m.slices.test.rephrased.harmfulDr).toMatchObject({ value: 0, n: 8 });
    // kept through the step record's JSON (a suite with no dev item: unmeasured, n 0)
    const back = reviveRoundMeasurement(JSON.parse(JSON.stringify(m)), "measure step");
    expect(back.dev.blocked).toEqual(m.dev.blocked);
    expect(back.dev.blocked?.["m-lookalikes"]).toMatchObject({ n: 0, value: Number.NaN });
  });

  it("figures a report slice (meta.reportSlice) from the items its stratum chose, never sampling by it", async () => {
    // the rephrased test probes split by the template slice of what they rephrase, as the world's are
    const tagged = harmfulProbes().map((p, i) =>
      p.meta?.split === "test" && p.meta.slice === "rephrased"
        ? { ...p, meta: { ...p.meta, reportSlice: `rephrased/${i % 2 ? "out-of-distribution" : "in-distribution"}` } }
        : p,
    );
    const suite = (probes: Probe[]): MeasuredSuite[] => [
      {
        role: "harmful",
        limit: 8,
        suite: createHarmfulSuite({ name: "m-harmful", probes: async () => probes, judge: oracleJudge }),
      },
    ];
    const plainSink = new MemorySink();
    const plain = await measureModel(model, { ...opts(suite(harmfulProbes())), sink: plainSink });
    const taggedSink = new MemorySink();
    const m = await measureModel(model, { ...opts(suite(tagged)), sink: taggedSink });
    // the same items were chosen and the same figures read for every split and sampling slice
    const ids = (sink: MemorySink) => [...sink.records.values()].map((r) => r.itemKey).sort();
    expect(ids(taggedSink)).toEqual(ids(plainSink));
    expect(m.test.harmfulDr).toEqual(plain.test.harmfulDr);
    expect(m.slices.test.rephrased).toEqual(plain.slices.test.rephrased);
    expect(Object.keys(m.slices.dev)).toEqual(["in-distribution", "rephrased"]);
    expect(Object.keys(m.slices.test)).toEqual([
      ...SLICES,
      "rephrased/in-distribution",
      "rephrased/out-of-distribution",
    ]);
    const a = m.slices.test["rephrased/in-distribution"].harmfulOutcomes.other;
    const b = m.slices.test["rephrased/out-of-distribution"].harmfulOutcomes.other;
    const n = (x: { n?: number; successes?: number }) => [x.n ?? 0, x.successes ?? 0];
    expect(n(a)[0] + n(b)[0]).toBe(8);
    expect(n(a)[0]).toBeGreaterThan(0);
    expect(n(b)[0]).toBeGreaterThan(0);
    expect(n(a)[1] + n(b)[1]).toBe(n(m.slices.test.rephrased.harmfulOutcomes.other)[1]);
  });

  it("fails the step when the judge is down (never a smaller n), and a re-run judges those items", async () => {
    let down = true;
    const judge = {
      ...oracleJudge,
      judge: async (inp: Parameters<typeof oracleJudge.judge>[0]) => {
        if (down) throw new Error("judge endpoint: ECONNREFUSED");
        return oracleJudge.judge(inp);
      },
    };
    const suites: MeasuredSuite[] = [
      { role: "harmful", suite: createHarmfulSuite({ name: "j", probes: async () => harmfulProbes(), judge }) },
    ];
    const o = opts(suites);
    await expect(measureModel(model, o)).rejects.toThrow(/judge: judge endpoint: ECONNREFUSED/);
    down = false;
    const m = await measureModel(model, o);
    expect(m.dev.skipped).toEqual({});
    expect(m.dev.harmfulDr.n).toBeGreaterThan(0);
  });

  it("refuses a suite that holds a training probe, naming it, before any model call", async () => {
    let calls = 0;
    const counting = fnModel("c", () => {
      calls++;
      return ORACLE_REFUSAL;
    });
    const bad = [probe("ok", { meta: { split: "test" } }), probe("leak", { meta: { split: "train" } })];
    const suites: MeasuredSuite[] = [
      { role: "harmful", suite: createHarmfulSuite({ name: "leaky", probes: async () => bad, judge: oracleJudge }) },
    ];
    await expect(measureModel(counting, opts(suites))).rejects.toThrow(/suite leaky: probe leak is in the train split/);
    expect(calls).toBe(0);
  });

  it("measures every interval at benchmarks.confidence (it was always 95%, whatever the config said)", async () => {
    const lookalikes = Array.from({ length: 20 }, (_, i) =>
      probe(`c${i}`, { label: i % 2 ? "unsafe" : "safe", prompt: i % 2 ? `twin ${i}` : `benign ${i}` }),
    );
    const suites: MeasuredSuite[] = [
      {
        role: "harmful",
        suite: createHarmfulSuite({ name: "c-harmful", probes: async () => harmfulProbes(), judge: oracleJudge }),
      },
      {
        role: "overrefusal",
        suite: createOverRefusalSuite({ name: "c-lookalikes", probes: async () => lookalikes, judge: oracleJudge }),
      },
    ];
    const at95 = await measureModel(model, opts(suites));
    const at80 = await measureModel(model, { ...opts(suites), level: 0.8 });
    for (const [a, b] of [
      [at95.test.harmfulDr, at80.test.harmfulDr],
      [at95.test.iprr, at80.test.iprr],
      [at95.test.harmfulOutcomes.refused, at80.test.harmfulOutcomes.refused],
      [at95.test.drByCategory.S1, at80.test.drByCategory.S1],
    ]) {
      expect(a.interval?.level).toBe(0.95);
      expect(b.interval?.level).toBe(0.8);
      expect(b.value).toBe(a.value);
      // a lower level gives a narrower interval around the same rate
      expect((b.interval?.high ?? 0) - (b.interval?.low ?? 0)).toBeLessThan(
        (a.interval?.high ?? 0) - (a.interval?.low ?? 0),
      );
    }
  });
});
