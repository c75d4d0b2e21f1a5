import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ChatRequest } from "../models/types.ts";
import { Store } from "../store/store.ts";
import { runSuite } from "./runner.ts";
import { JsonlDirSink } from "./sink.ts";
import { BENCH_RECORD_KIND, BenchResults, resolveRunRef, StoreSink } from "./store-sink.ts";
import { createHarmfulSuite } from "./suites/harmful.ts";
import { fnModel, markerJudge, probe, record } from "./testing/fixtures.ts";

const dirs: string[] = [];
const stores: Store[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "bf-store-sink-"));
  dirs.push(d);
  return d;
}
function open(dir: string): Store {
  const s = Store.open(dir);
  stores.push(s);
  return s;
}
afterEach(() => {
  for (const s of stores.splice(0)) if (s.db.open) s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const probes = Array.from({ length: 30 }, (_, i) => probe(`p${i}`, { prompt: `request number ${i}` }));
const suite = () => createHarmfulSuite({ name: "toy", probes: async () => probes, judge: markerJudge });
const lastUser = (r: ChatRequest) => r.messages[r.messages.length - 1].content;
function countingModel() {
  let calls = 0;
  const m = fnModel("m", (r) => {
    calls++;
    return /[13579]$/.test(lastUser(r)) ? "[UNSAFE-X-1] SEV5" : "I can't help.";
  });
  return { model: m, calls: () => calls };
}

describe("bench results in the SQLite store", () => {
  it("stores records once per key, reads them back by run and by key, across reopening", async () => {
    const dir = tmp();
    const s1 = new StoreSink(open(dir));
    await s1.putMany([record("a", true), record("b", false)]);
    await s1.putMany([record("a", false), record("c", null, { runId: "other", key: "k-c-other" })]);
    s1.store.close();
    const s2 = new StoreSink(open(dir));
    expect((await s2.listRun("run")).map((r) => [r.itemKey, r.outcome])).toEqual([
      ["a", true],
      ["b", false],
    ]);
    expect([...(await s2.getMany(["k-a-run", "k-c-other", "zzz"])).keys()]).toEqual(["k-a-run", "k-c-other"]);
    expect([...(await s2.getMany(["k-a-run", "k-c-other"], "run")).keys()]).toEqual(["k-a-run"]);
    expect(s2.listRunIds()).toEqual(["other", "run"]);
    expect(s2.store.artifacts.list(BENCH_RECORD_KIND)).toHaveLength(3);
  });

  it("runs a suite into the store and its JSONL export, and resumes from the store without calling the target", async () => {
    const dir = tmp();
    const t = countingModel();
    const r1 = await runSuite(suite(), t.model, {
      sink: new BenchResults(open(dir), new JsonlDirSink(dir)),
      chunkSize: 8,
    });
    expect(t.calls()).toBe(30);
    const db = new StoreSink(open(dir));
    expect(await db.listRun(r1.runId)).toHaveLength(30);
    const jsonl = new JsonlDirSink(dir);
    expect(await jsonl.listRun(r1.runId)).toHaveLength(30);
    const r2 = await runSuite(suite(), t.model, { sink: new BenchResults(open(dir), new JsonlDirSink(dir)) });
    expect(r2.resumed).toBe(30);
    expect(t.calls()).toBe(30);
    expect(r2.metrics).toEqual(r1.metrics);
  });

  it("repairs either side from the other: JSONL-only results go into the store, store-only ones into the export", async () => {
    const dir = tmp();
    const t = countingModel();
    // results written before the store existed: JSONL only
    const old = await runSuite(suite(), t.model, { sink: new JsonlDirSink(dir), limit: 12 });
    expect(t.calls()).toBe(12);
    const results = new BenchResults(open(dir), new JsonlDirSink(dir));
    const r = await runSuite(suite(), t.model, { sink: results });
    expect(r.resumed).toBe(12);
    expect(t.calls()).toBe(30);
    expect(await results.db.listRun(old.runId)).toHaveLength(30);
    // a JSONL export cut short (a kill between the store's transaction and the append): records return on resume
    const file = results.jsonl.runFile(r.runId);
    const lines = fs.readFileSync(file, "utf8").trim().split("\n");
    fs.writeFileSync(file, `${lines.slice(0, 20).join("\n")}\n`);
    const again = await runSuite(suite(), t.model, { sink: new BenchResults(open(dir), new JsonlDirSink(dir)) });
    expect(again.resumed).toBe(30);
    expect(t.calls()).toBe(30);
    const exported = fs.readFileSync(file, "utf8").trim().split("\n");
    expect(exported).toHaveLength(30);
    expect(new Set(exported.map((l) => JSON.parse(l).key)).size).toBe(30);
  });

  it("keeps run summaries and puts their metrics in the store's metrics table under the run id", async () => {
    const dir = tmp();
    const results = new BenchResults(open(dir), new JsonlDirSink(dir));
    const r = await runSuite(suite(), countingModel().model, { sink: results });
    const summary = {
      runId: r.runId,
      suite: r.suite,
      target: r.target,
      judge: r.judge,
      sampling: {},
      items: r.items,
      finishedAt: new Date().toISOString(),
      metrics: r.metrics,
    };
    results.writeSummary(summary);
    results.writeSummary({ ...summary, finishedAt: new Date(Date.now() + 1000).toISOString() });
    expect(results.readSummary(r.runId)?.metrics).toEqual(JSON.parse(JSON.stringify(r.metrics)));
    const store = results.db.store;
    const rows = store.metrics.list({ run_id: r.runId });
    // the same summary content twice: one set of metric rows
    expect(rows.map((m) => m.value.name).sort()).toEqual(r.metrics.map((m) => m.name).sort());
    const dr = store.metrics.list({ run_id: r.runId, name: "DR-3" })[0].value;
    expect(dr).toMatchObject({ value: 0.5, n: 30, successes: 15 });
    expect(fs.existsSync(results.jsonl.summaryFile(r.runId))).toBe(true);
    expect(results.resolveRun(r.runId.slice(0, 12))).toBe(r.runId);
  });

  it("resolves run references by exact id or unique prefix, and names what it searched", () => {
    const ids = ["toy@v1-aaa", "toy@v1-abb", "x@v1-1"];
    expect(resolveRunRef("x", ids, "here")).toBe("x@v1-1");
    expect(resolveRunRef("toy@v1-aaa", ids, "here")).toBe("toy@v1-aaa");
    expect(() => resolveRunRef("toy@v1-a", ids, "here")).toThrow(/ambiguous/);
    expect(() => resolveRunRef("zzz", ids, "the store")).toThrow(/no run 'zzz' in the store \(runs: 3\)/);
  });
});
