import { describe, expect, it } from "vitest";
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
