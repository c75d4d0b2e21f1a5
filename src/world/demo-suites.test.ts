/**
 * The demo suites (the demo world's dev and test splits, judged by the world's oracle judge) end to end over a real
 * local OpenAI-compatible server. Until the demo model is committed, two scripted "oracle" models stand in: one
 * answers every world prompt as the unsafe-by-construction base corpus does, the other as the fixed (safe) corpus
 * does. The figures of the real demo model come from `breakfix bench --suite demo --target <breakfix serve URL>`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareRuns } from "../benchmarks/compare.ts";
import { suiteConformance } from "../benchmarks/conformance.testkit.ts";
import { demoFigures } from "../benchmarks/demo.ts";
import { resolveSuiteNames, runNamedSuites, type SuiteDeps } from "../benchmarks/registry.ts";
import { runSuite } from "../benchmarks/runner.ts";
import { MemorySink } from "../benchmarks/sink.ts";
import { fnModel } from "../benchmarks/testing/fixtures.ts";
import { type ScriptedServer, startScriptedServer } from "../benchmarks/testing/scripted-server.ts";
import type { SuiteRunResult } from "../benchmarks/types.ts";
import { canonicalJson } from "../domain/hash.ts";
import type { Conversation } from "../domain/types.ts";
import { demoAcceptanceOf } from "./demo-acceptance.ts";
import { generateWorld } from "./generate.ts";
import { registerWorldPlugin } from "./plugin.ts";
import { rephrasedItems } from "./rephrase.ts";
import { loadDemoWorld } from "./suites.ts";

registerWorldPlugin();

const world = generateWorld();
const answers = new Map<string, { base: string; safe: string }>();
// the suites also hold the rephrased copies of the dev/test items (rephrase.ts), answered as the items they copy
for (const it of [...world.items, ...rephrasedItems(world, "dev"), ...rephrasedItems(world, "test")]) {
  answers.set(canonicalJson([...it.history, { role: "user", content: it.prompt }]), {
    base: it.baseResponse,
    safe: it.safeResponse,
  });
}
const oracle =
  (which: "base" | "safe") =>
  (messages: Conversation): string =>
    answers.get(canonicalJson(messages.map((m) => ({ role: m.role, content: m.content }))))?.[which] ?? "unknown";

let base: ScriptedServer;
beforeAll(async () => {
  base = await startScriptedServer(oracle("base"), "base");
});
afterAll(async () => base?.close());
// The safe oracle runs in-process (the HTTP path is exercised by the base oracle; this keeps the test fast).
const safe = fnModel("safe-oracle", (r) => oracle("safe")(r.messages));

// The demo suites never use the deps' judge: they are graded by the world's oracle judge.
const deps: SuiteDeps = {
  judge: {
    id: "unused",
    judge: () => {
      throw new Error("demo suites must use the world judge");
    },
  },
};
const demo = () => resolveSuiteNames("demo").map((s) => s.build(deps));
const metric = (r: SuiteRunResult, name: string) => r.metrics.find((m) => m.name === name);

describe("demo suites", () => {
  it("are the world's dev and test splits only (each probe tagged), with every family and both languages", () => {
    const w = loadDemoWorld();
    const probes = w.probes();
    expect(probes.length).toBeGreaterThan(1000);
    const bySlice = new Map<string, number>();
    for (const p of probes)
      bySlice.set(`${p.meta?.split}/${p.meta?.slice}`, (bySlice.get(`${p.meta?.split}/${p.meta?.slice}`) ?? 0) + 1);
    // dev: seen templates only; test: in-distribution and out-of-distribution (held-out templates)
    expect([...bySlice.keys()].sort()).toEqual([
      "dev/in-distribution",
      "test/in-distribution",
      "test/out-of-distribution",
    ]);
    expect(bySlice.get("test/out-of-distribution")).toBeGreaterThan(500);
    const dev = w.probes({ split: "dev", family: "harmful" });
    expect(dev.length).toBeGreaterThan(100);
    expect(dev.every((p) => p.meta?.split === "dev" && p.meta?.family === "harmful")).toBe(true);
    expect(w.probes({ split: "train" }).length).toBe(world.items.filter((i) => i.split === "train").length);
    expect(new Set(probes.map((p) => p.language))).toEqual(new Set(["en", "es"]));
    const names = resolveSuiteNames("demo").map((s) => s.name);
    expect(names).toEqual(["demo-harmful", "demo-jailbreak", "demo-multiturn", "demo-overrefusal", "demo-capability"]);
  });

  it("measure the base-corpus oracle as unsafe and the safe-corpus oracle as safe, with intervals", async () => {
    const sink = new MemorySink();
    const rb: SuiteRunResult[] = [];
    const rs: SuiteRunResult[] = [];
    for (const s of demo()) rb.push(await runSuite(s, base.client(32), { sink }));
    const named = await runNamedSuites("demo", safe, deps, { sink });
    expect(named.failed).toEqual({});
    rs.push(...named.results);
    const [hb, jb, mb, ob, cb] = rb;
    const [hs, js, ms, os, cs] = rs;
    expect(metric(hb, "DR-1")).toMatchObject({ value: 1, headline: true });
    expect(metric(hb, "DR-1")?.interval?.low).toBeGreaterThan(0.98);
    expect(metric(hb, "DR-1[language=es]")?.value).toBe(1);
    expect(hb.metrics.filter((m) => m.group?.by === "category").length).toBeGreaterThanOrEqual(8);
    expect(metric(jb, "DR-1")?.value).toBe(1);
    expect(jb.metrics.filter((m) => m.name.startsWith("DR-1[variant=")).length).toBeGreaterThanOrEqual(5);
    expect(metric(mb, "DR-1")?.value).toBe(1);
    expect(metric(ob, "VPRR")?.value).toBe(0);
    expect(metric(ob, "IPRR")?.value).toBe(0);
    expect(metric(cb, "accuracy")?.value).toBe(1);

    expect(metric(hs, "DR-1")?.value).toBe(0);
    expect(metric(js, "DR-1")?.value).toBe(0);
    expect(metric(ms, "DR-1")?.value).toBe(0);
    expect(metric(os, "IPRR")?.value).toBe(1);
    expect(metric(os, "VPRR")?.value).toBe(0);
    expect(metric(cs, "accuracy")?.value).toBe(1);

    const fb = demoFigures(rb);
    expect(fb).toMatchObject({
      harmfulDr: { value: 1 },
      vprr: { value: 0 },
      iprr: { value: 0 },
      capability: { value: 1 },
    });
    expect(Object.keys(fb.drByLanguage).sort()).toEqual(["en", "es"]);
    expect(fb.harmfulDr.interval?.low).toBeLessThan(1);
    const fs = demoFigures(rs);
    expect(fs).toMatchObject({ harmfulDr: { value: 0 }, jailbreakDr: { value: 0 }, iprr: { value: 1 } });
    expect(demoFigures([]).harmfulDr).toMatchObject({ value: Number.NaN, n: 0 });

    // per split and slice (demo-acceptance.ts): the base oracle leaks on every slice, the safe one refuses on every one
    const sliceOf = new Map(
      loadDemoWorld()
        .probes({ rephrased: true })
        .map((p) => [p.id, `${p.meta?.split}/${p.meta?.slice}`]),
    );
    const ab = demoAcceptanceOf(rb, 0, (id) => sliceOf.get(id));
    const as = demoAcceptanceOf(rs, 0, (id) => sliceOf.get(id));
    expect(Object.keys(ab.bySlice)).toEqual(
      expect.arrayContaining(["dev/in-distribution", "test/in-distribution", "test/out-of-distribution"]),
    );
    expect(ab.bySlice["test/out-of-distribution"].harmfulDr.n).toBeGreaterThanOrEqual(150);
    expect(ab.bySlice["test/out-of-distribution"].iprr.n).toBeGreaterThanOrEqual(60);
    for (const [k, s] of Object.entries(ab.bySlice)) {
      expect(s.harmfulDr.value, k).toBe(1);
      expect(as.bySlice[k].harmfulDr.value, k).toBe(0);
      expect(as.bySlice[k].iprr.value, k).toBe(1);
    }
    const c = compareRuns(hb.records, hs.records);
    expect(c.overall.significant).toBe(true);
    expect(c.overall.aOnly).toBe(hb.records.length);
  });

  suiteConformance(
    "demo-overrefusal",
    () => demo()[3],
    () => base.client(32),
    {
      check: (r) => expect(r.metrics.filter((m) => m.group?.by === "variant").length).toBeGreaterThan(2),
    },
  );
});
