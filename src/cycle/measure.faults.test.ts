/**
 * The cycle's measure step pays every model call once (issue 23): measureModel runs a harmful and a jailbreak suite
 * (500 items in all) against a real fault-injecting OpenAI-compatible server on 127.0.0.1 (429 + Retry-After, 500,
 * hangs past the timeout, non-JSON and truncated bodies, reset connections) through createChatModel's
 * openai-compatible provider and reliability layer. Some requests fail for good in one run (every send faulted) and are
 * answered on the next. The step fails on the first suite with failed items (measure.ts: a re-run retries it), so the
 * test re-runs the step, as `breakfix cycle` does, until it succeeds, and checks that over all runs each request
 * reached the server exactly 1 + its planned faults times: requests = items + retries of failed items only, and
 * nothing answered is ever sent again. The one send the plan cannot foresee, an answer the client gave up on after a
 * real timeout (an event-loop stall on a loaded machine), is allowed only as often as the client timed out
 * (checkCounts, shared with the paid-once tests).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemorySink } from "../benchmarks/sink.ts";
import { createHarmfulSuite } from "../benchmarks/suites/harmful.ts";
import { markerJudge, probe } from "../benchmarks/testing/fixtures.ts";
import type { RoundMeasurement, RoundMetrics } from "../domain/round-metrics.ts";
import { createChatModel } from "../models/registry.ts";
import { checkCounts, Timeouts } from "../models/testing/fault-counts.ts";
import { FAULT_KINDS, type FaultChatBody, FaultServer, standardPlan } from "../models/testing/fault-server.ts";
import { measureModel } from "./measure.ts";
import type { MeasuredSuite } from "./scenario.ts";

const HARMFUL = 300;
const JAILBREAK = 200;
const N = HARMFUL + JAILBREAK;
const RETRIES = 3;
const TIMEOUT_MS = 1000;
const DEAD_SHARE = 0.02;

const lastUser = (b: FaultChatBody) => [...(b.messages ?? [])].reverse().find((m) => m.role === "user")?.content ?? "";

describe("cycle measure step against a fault-injecting server (issue 23)", () => {
  const { faultsOf, plan } = standardPlan(DEAD_SHARE, RETRIES + 1, "measure");
  // Odd-numbered prompts are answered unsafely (a defect), even ones refused; the answer echoes the prompt so a record
  // holding another item's answer would be seen. The 100th answer stalls the process past the timeout (as a loaded
  // machine can), so the allowance for answers the client gave up on is exercised every run.
  let answers = 0;
  const server = new FaultServer({
    plan,
    reply: (b) => {
      if (++answers === 100) {
        const until = performance.now() + TIMEOUT_MS + 200;
        while (performance.now() < until) {}
      }
      return /[13579]$/.test(lastUser(b)) ? `[UNSAFE-X-1] SEV5 for ${lastUser(b)}` : `No: ${lastUser(b)}`;
    },
    hangMs: 5000,
  });
  let baseUrl = "";
  beforeAll(async () => {
    baseUrl = await server.start();
  });
  afterAll(() => server.stop());

  it(`measures ${N} items: each request sent 1 + its own faults times over the runs it takes`, async () => {
    const harmful = Array.from({ length: HARMFUL }, (_, i) => probe(`h${i}`, { prompt: `harmful request ${i}` }));
    const jail = Array.from({ length: JAILBREAK }, (_, i) => probe(`j${i}`, { prompt: `jailbreak request ${i}` }));
    const suites: MeasuredSuite[] = [
      {
        role: "harmful",
        suite: createHarmfulSuite({ name: "faulty-harmful", probes: async () => harmful, judge: markerJudge }),
      },
      {
        role: "jailbreak",
        suite: createHarmfulSuite({
          name: "faulty-jailbreak",
          probes: async () => jail,
          judge: markerJudge,
          variantOf: (p) => (Number(p.id.slice(1)) % 2 ? "roleplay" : "encoding"),
        }),
      },
    ];
    const timeouts = new Timeouts();
    const target = await createChatModel(
      {
        provider: "openai-compatible",
        model: "fault",
        baseUrl,
        retries: RETRIES,
        timeoutMs: TIMEOUT_MS,
        concurrency: 16,
      },
      { limits: new Map(), reliability: { baseMs: 10, maxMs: 40 }, onEvent: timeouts.onEvent },
    );
    const sink = new MemorySink();
    const t0 = performance.now();
    let measured: RoundMeasurement | undefined;
    const failedRuns: number[] = [];
    for (let run = 0; run < 4 && !measured; run++) {
      const before = server.arrivals.length;
      measured = await measureModel(target, {
        suites,
        sink,
        sampling: { temperature: 0, maxTokens: 32 },
        heldOutFamilies: ["roleplay"],
        variantFamilies: (v) => [v],
        devShare: 0.3,
      }).catch((e: unknown) => {
        expect(e).toBeInstanceOf(Error);
        failedRuns.push(server.arrivals.length - before);
        return undefined;
      });
    }
    const seconds = (performance.now() - t0) / 1000;
    expect(measured).toBeDefined();
    // every item reached the server, each with its own key, and every fault kind was exercised
    const byKey = server.countsByKey();
    expect(byKey.size).toBe(N);
    for (const k of FAULT_KINDS) expect(server.count(k), `fault ${k}`).toBeGreaterThan(0);
    // each key: exactly its faults + 1 sends over all runs (a dead key: RETRIES + 1 faulted sends in one run, then 1
    // answer in the next), plus one per answer the client gave up on after a real timeout
    checkCounts(server, faultsOf, Number.POSITIVE_INFINITY, timeouts.n);
    const dead = [...byKey.keys()].filter((key) => faultsOf(key).length > RETRIES).length;
    expect(dead).toBeGreaterThan(0);
    expect(failedRuns.length).toBeGreaterThan(0);
    // every item accounted for in the figures, with the right answers
    // (dev and test together: the probes carry no split, so each went to one of them by hash)
    const { dev, test } = measured as RoundMeasurement;
    const both = (f: (x: RoundMetrics) => { n?: number; successes?: number }) => ({
      n: (f(dev).n ?? 0) + (f(test).n ?? 0),
      successes: (f(dev).successes ?? 0) + (f(test).successes ?? 0),
    });
    expect(dev.harmfulDr.n).toBeGreaterThan(0);
    expect(test.harmfulDr.n).toBeGreaterThan(dev.harmfulDr.n ?? 0);
    expect(both((x) => x.harmfulDr)).toEqual({ n: HARMFUL, successes: HARMFUL / 2 });
    expect(both((x) => x.jailbreakDr)).toEqual({ n: JAILBREAK, successes: JAILBREAK / 2 });
    expect(both((x) => x.heldoutDr)).toEqual({ n: JAILBREAK / 2, successes: JAILBREAK / 2 });
    expect(sink.records.size).toBe(N);
    for (const r of sink.records.values()) expect(r.response).toContain(r.conversation.at(-2)?.content ?? "?");
    console.log(
      `cycle measure: ${N} items, ${server.arrivals.length} requests (${server.arrivals.length - N} retries of faulted requests; ` +
        `${dead} items failed for good in a run and were answered by the next; ${failedRuns.length + 1} runs of the step) ` +
        `in ${seconds.toFixed(1)} s`,
    );
  }, 90_000);
});
