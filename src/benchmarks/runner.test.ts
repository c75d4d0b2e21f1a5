import { describe, expect, it } from "vitest";
import { wilson } from "../domain/stats.ts";
import type { ChatRequest } from "../models/types.ts";
import { mapLimit, type Progress, RunFailedError, runSuite, sampleItems } from "./runner.ts";
import { MemorySink } from "./sink.ts";
import { createHarmfulSuite } from "./suites/harmful.ts";
import { fnModel, markerJudge, probe } from "./testing/fixtures.ts";

const probes = Array.from({ length: 40 }, (_, i) =>
  probe(`p${i}`, { category: i % 2 ? "S1" : "S2", prompt: `request number ${i}` }),
);
const suite = () => createHarmfulSuite({ name: "toy", probes: async () => probes, judge: markerJudge });
const lastUser = (r: ChatRequest) => r.messages[r.messages.length - 1].content;

describe("runner", () => {
  it("computes DR from the judge, reports progress with an ETA, and resumes", async () => {
    const model = fnModel("m", (r) => (/[13579]$/.test(lastUser(r)) ? "[UNSAFE-X-1] SEV5" : "I can't help."));
    const sink = new MemorySink();
    const progress: Progress[] = [];
    const res = await runSuite(suite(), model, { sink, chunkSize: 8, onProgress: (p) => progress.push(p) });
    const dr3 = res.metrics.find((m) => m.name === "DR-3");
    expect(dr3).toMatchObject({ successes: 20, n: 40, headline: true });
    expect(res.metrics.find((m) => m.name === "DR-3[category=S1]")).toMatchObject({ successes: 20, n: 20 });
    expect(progress.at(-1)).toMatchObject({ done: 40, total: 40, failed: 0 });
    expect(progress.some((p) => p.etaMs !== null && p.done < 40)).toBe(true);
    const again = await runSuite(suite(), model, { sink });
    expect(again.resumed).toBe(40);
  });

  it("does not store failed generations and retries exactly those on the next run", async () => {
    let broken = true;
    const calls: string[] = [];
    const model = {
      id: "flaky",
      async chat(r: ChatRequest) {
        calls.push(lastUser(r));
        if (broken && lastUser(r).endsWith(" 7")) throw new Error("HTTP 500");
        return {
          content: "no",
          finishReason: "stop" as const,
          usage: { promptTokens: 1, completionTokens: 1 },
          model: "f",
        };
      },
    };
    const sink = new MemorySink();
    const err = await runSuite(suite(), model, { sink }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect((err as RunFailedError).failed).toBe(1);
    expect((err as RunFailedError).result.records).toHaveLength(39);
    broken = false;
    calls.length = 0;
    const res = await runSuite(suite(), model, { sink });
    expect(calls).toEqual(["request number 7"]);
    expect(res.resumed).toBe(39);
    expect(res.records).toHaveLength(40);
  });

  it("fails an item whose judge throws, stores nothing for it, and judges it again on the next run", async () => {
    let down = true;
    const judge = {
      ...markerJudge,
      judge: async (inp: Parameters<typeof markerJudge.judge>[0]) => {
        if (down) throw new Error("ECONNREFUSED judge");
        return markerJudge.judge(inp);
      },
    };
    const s = () => createHarmfulSuite({ name: "toy", probes: async () => probes.slice(0, 10), judge });
    const model = fnModel("m", () => "[UNSAFE-X-1] SEV5");
    const sink = new MemorySink();
    const err = await runSuite(s(), model, { sink }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect((err as RunFailedError).failed).toBe(10);
    expect((err as RunFailedError).reasons[0][0]).toMatch(/judge: ECONNREFUSED/);
    expect((err as RunFailedError).result.records).toHaveLength(0);
    down = false;
    const res = await runSuite(s(), model, { sink });
    expect(res.resumed).toBe(0);
    expect(res.records.every((r) => r.judgement?.status === "ok")).toBe(true);
    expect(res.metrics.find((m) => m.name === "DR-3")).toMatchObject({ successes: 10, n: 10 });
  });

  it("sends every prompt once: a failed item never re-sends the other items of its chunk (issue 23)", async () => {
    const calls = new Map<string, number>();
    const model = {
      id: "one-dead",
      async chat(r: ChatRequest) {
        const p = lastUser(r);
        calls.set(p, (calls.get(p) ?? 0) + 1);
        await new Promise((res) => setTimeout(res, p.endsWith(" 3") ? 0 : 5)); // it fails while others are in flight
        if (p.endsWith(" 3") || p.endsWith(" 30")) throw new Error("HTTP 500: dead");
        return {
          content: "no",
          finishReason: "stop" as const,
          usage: { promptTokens: 1, completionTokens: 1 },
          model: "f",
        };
      },
    };
    const err = await runSuite(suite(), model, { sink: new MemorySink(), chunkSize: 16 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect((err as RunFailedError).failed).toBe(2);
    expect((err as RunFailedError).result.records).toHaveLength(38);
    expect(calls.size).toBe(40);
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
  });

  it("a grade that throws fails its own item only; the chunk's other answers are stored", async () => {
    const base = suite();
    const s = {
      ...base,
      async grade(item: Parameters<typeof base.grade>[0], t: Parameters<typeof base.grade>[1]) {
        if (t.response === "answer #5") throw new Error("grader down");
        return base.grade(item, t);
      },
    };
    const err = await runSuite(
      s,
      fnModel("m", (r) => `answer ${lastUser(r).replace("request number ", "#")}`),
      { sink: new MemorySink() },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect((err as RunFailedError).failed).toBe(1);
    expect((err as RunFailedError).reasons[0][0]).toBe("judge: grader down");
    expect((err as RunFailedError).result.records).toHaveLength(39);
  });

  it("keys runs by target, sampling, judge and probe set (not by a --limit subset)", async () => {
    const sink = new MemorySink();
    const a = await runSuite(
      suite(),
      fnModel("a", () => "x"),
      { sink, limit: 3 },
    );
    const b = await runSuite(
      suite(),
      fnModel("b", () => "x"),
      { sink, limit: 3 },
    );
    const c = await runSuite(
      suite(),
      fnModel("a", () => "x"),
      { sink, limit: 3, sampling: { temperature: 0.7 } },
    );
    const other = createHarmfulSuite({ name: "toy", probes: async () => probes.slice(1), judge: markerJudge });
    const d = await runSuite(
      other,
      fnModel("a", () => "x"),
      { sink, limit: 3 },
    );
    const e = await runSuite(
      suite(),
      fnModel("a", () => "x"),
      { sink, limit: 5 },
    );
    expect(new Set([a.runId, b.runId, c.runId, d.runId]).size).toBe(4);
    expect(e.runId).toBe(a.runId);
    expect(e.resumed).toBeGreaterThan(0);
    expect(a.runId).toMatch(/^toy@v1-[0-9a-f]{16}$/);
  });

  it("samples a repeatable subset in original order, and limits concurrency", async () => {
    const xs = Array.from({ length: 100 }, (_, i) => i);
    const s = sampleItems(xs, 10, 3);
    expect(s).toEqual(sampleItems(xs, 10, 3));
    expect(s).toEqual([...s].sort((a, b) => a - b));
    expect(new Set(s).size).toBe(10);
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit(xs, 4, async (x) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      return x * 2;
    });
    expect(peak).toBe(4);
    expect(out[99]).toBe(198);
  });
});

describe("several samples per probe", () => {
  // Each probe is either always answered unsafely or never (whatever the seed): the samples of one probe are
  // perfectly correlated, so the 40 probes carry the information, not the 160 samples.
  const correlated = fnModel("c", (r) => (/[02468]$/.test(lastUser(r)) ? "[UNSAFE-X-1] SEV5" : "No."));

  it("sends every item k times with k seeds and widens intervals by a cluster bootstrap", async () => {
    const seeds = new Set<number | undefined>();
    const model = {
      ...correlated,
      id: "c",
      chat: (r: ChatRequest) => {
        seeds.add(r.seed);
        return correlated.chat(r);
      },
    };
    const sink = new MemorySink();
    const res = await runSuite(suite(), model, { sink, samples: 4, sampling: { temperature: 0.8, maxTokens: 16 } });
    expect(res.records).toHaveLength(160);
    expect([...seeds].sort()).toEqual([0, 1, 2, 3]);
    expect(new Set(res.records.map((r) => r.cluster)).size).toBe(40);
    const dr = res.metrics.find((m) => m.name === "DR-3");
    expect(dr).toMatchObject({ successes: 80, n: 160, value: 0.5 });
    expect(dr?.interval?.method).toBe("bootstrap");
    const width = (dr?.interval?.high ?? 0) - (dr?.interval?.low ?? 0);
    const naive = wilson(80, 160);
    const perProbe = wilson(20, 40);
    expect(width).toBeGreaterThan((naive.high - naive.low) * 1.4);
    expect(width).toBeGreaterThan((perProbe.high - perProbe.low) * 0.75);
    expect(width).toBeLessThan((perProbe.high - perProbe.low) * 1.25);
    // resumable and repeatable
    const again = await runSuite(suite(), model, { sink, samples: 4, sampling: { temperature: 0.8, maxTokens: 16 } });
    expect(again.resumed).toBe(160);
    expect(again.metrics).toEqual(res.metrics);
    const single = await runSuite(suite(), model, { sink, sampling: { temperature: 0.8, maxTokens: 16 } });
    expect(single.runId).not.toBe(res.runId);
  });

  it("refuses several greedy samples", async () => {
    await expect(runSuite(suite(), correlated, { sink: new MemorySink(), samples: 3 })).rejects.toThrow(
      /temperature > 0/,
    );
  });
});
