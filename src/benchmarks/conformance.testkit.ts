/**
 * The shared conformance suite every benchmark suite runs (call it from the suite's own test file with a target).
 * It checks the contract in types.ts: a valid name/version, deterministic unique item keys, one record per item
 * after a run, exactly one headline metric, every rate with a Wilson interval that contains it, records that
 * survive JSON, and resume: a second run on the same sink makes no target calls and gives identical metrics.
 */
import { describe, expect, it } from "vitest";
import type { ChatModel, ChatRequest, ChatResult } from "../models/types.ts";
import { runSuite } from "./runner.ts";
import { MemorySink } from "./sink.ts";
import type { Suite, SuiteRunResult } from "./types.ts";

/** Wraps a model and counts the chat requests that reach it. */
export function countingModel(inner: ChatModel): ChatModel & { calls: () => number } {
  let n = 0;
  return {
    id: inner.id,
    calls: () => n,
    async chat(r: ChatRequest): Promise<ChatResult> {
      n++;
      return inner.chat(r);
    },
  };
}

export interface SuiteConformanceOptions {
  /** Expected number of items (e.g. the dataset's probe count times techniques). */
  expectedItems?: number;
  /** Run at most this many items (seeded subset) to keep the test fast. */
  limit?: number;
  /** Extra checks on the finished run. */
  check?: (result: SuiteRunResult) => void;
}

export function suiteConformance(
  label: string,
  makeSuite: () => Suite,
  makeTarget: () => ChatModel,
  opts: SuiteConformanceOptions = {},
): void {
  describe(`suite conformance: ${label}`, () => {
    it("has a command-line name, a version and a description", () => {
      const s = makeSuite();
      expect(s.name).toMatch(/^[a-z0-9][a-z0-9._-]*$/);
      expect(Number.isInteger(s.version) && s.version >= 1).toBe(true);
      expect(s.description.length).toBeGreaterThan(0);
      expect(s.judgeId.length).toBeGreaterThan(0);
    });

    it("builds deterministic items with unique keys", async () => {
      const a = await makeSuite().items();
      const b = await makeSuite().items();
      expect(a.length).toBeGreaterThan(0);
      if (opts.expectedItems !== undefined) expect(a.length).toBe(opts.expectedItems);
      expect(a.map((i) => i.key)).toEqual(b.map((i) => i.key));
      expect(new Set(a.map((i) => i.key)).size).toBe(a.length);
      for (const it of a) {
        expect(it.probe.id.length).toBeGreaterThan(0);
        if (it.conversation.length > 0) expect(it.conversation[it.conversation.length - 1].role).toBe("user");
      }
    });

    it("runs end to end, reports sound metrics, and resumes without calling the target again", async () => {
      const sink = new MemorySink();
      const suite = makeSuite();
      const target = countingModel(makeTarget());
      const first = await runSuite(suite, target, { sink, limit: opts.limit });
      const expected = opts.limit ? Math.min(opts.limit, (await suite.items()).length) : (await suite.items()).length;
      expect(first.items).toBe(expected);
      expect(first.records).toHaveLength(expected);
      expect(first.resumed).toBe(0);
      expect(target.calls()).toBeGreaterThanOrEqual(expected);
      for (const r of first.records) {
        expect(r.runId).toBe(first.runId);
        expect([true, false, null]).toContain(r.outcome);
        expect(JSON.parse(JSON.stringify(r))).toEqual(r);
      }
      expect(first.metrics.filter((m) => m.headline)).toHaveLength(1);
      for (const m of first.metrics) {
        expect(m.interval, m.name).toBeDefined();
        if (m.kind === "rate") {
          expect(m.interval?.method).toBe("wilson");
          expect(m.n).toBeLessThanOrEqual(first.records.length);
          if ((m.n ?? 0) > 0) {
            expect(m.value).toBeGreaterThanOrEqual((m.interval?.low ?? 0) - 1e-12);
            expect(m.value).toBeLessThanOrEqual((m.interval?.high ?? 1) + 1e-12);
          }
        }
      }
      const calls = target.calls();
      const second = await runSuite(makeSuite(), target, { sink, limit: opts.limit });
      expect(target.calls()).toBe(calls);
      expect(second.resumed).toBe(expected);
      expect(second.runId).toBe(first.runId);
      expect(second.metrics).toEqual(first.metrics);
      opts.check?.(first);
    });
  });
}
