/**
 * Fault test (issue 7 acceptance): a real local HTTP server answers a share of requests with 429 (+ Retry-After),
 * 500, a hung connection and malformed JSON. A batch of 500 requests through the openai-compatible provider and the
 * reliability wrapper must complete, every request accounted for exactly once, the cache consistent, and the
 * server-side arrival rate within the configured rate limit.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenAICompatibleModel } from "../providers/openai-compatible.ts";
import { type Fault, MockChatServer, mockReply } from "../testing/mock-server.ts";
import type { ChatRequest, ChatResult } from "../types.ts";
import { cacheableRequest, cacheKey, SqliteResponseCache } from "./cache.ts";
import { type ModelEvent, ReliableChatModel } from "./reliable.ts";
import { UsageMeter } from "./usage.ts";

const N = 500;
const RPM = 12_000; // 200 requests/s
const BURST_SECONDS = 0.25; // bucket of 50
const RETRY_AFTER_MS = 150;

/** Deterministic fault plan by arrival number: ~10% 429, ~8% 500, ~3% hang, ~5% malformed. */
function plan(n: number): Fault {
  const h = Math.imul(n + 1, 2654435761) >>> 0;
  const x = (h % 1000) / 1000;
  if (x < 0.1) return "429";
  if (x < 0.18) return "500";
  if (x < 0.21) return "hang";
  if (x < 0.26) return "malformed";
  return "ok";
}

describe("fault tolerance: 500 requests against a faulty server", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "fault-"));
  const server = new MockChatServer({
    fault: plan,
    retryAfter: { header: "retry-after-ms", value: String(RETRY_AFTER_MS) },
  });
  let baseUrl = "";
  beforeAll(async () => {
    baseUrl = await server.start();
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("completes, accounts every request once, keeps the cache consistent and respects the rate limit", async () => {
    const cache = new SqliteResponseCache(path.join(dir, "cache.db"));
    const meter = new UsageMeter();
    const events: ModelEvent[] = [];
    const provider = new OpenAICompatibleModel({ baseUrl, model: "mock" });
    const model = new ReliableChatModel(
      provider,
      {
        concurrency: 32,
        requestsPerMinute: RPM,
        burstSeconds: BURST_SECONDS,
        timeoutMs: 2000,
        maxRetries: 12,
        baseMs: 20,
        maxMs: 400,
      },
      { cache, meter, onEvent: (e) => events.push(e) },
    );
    const prompts = Array.from({ length: N }, (_, i) => `fault-batch prompt #${i}`);
    const requests: ChatRequest[] = prompts.map((p) => ({ messages: [{ role: "user", content: p }], temperature: 0 }));

    const t0 = performance.now();
    const settled = await Promise.allSettled(requests.map((r) => model.chat(r)));
    const elapsedMs = performance.now() - t0;

    // 1. every request completed, with its own answer
    const rejected = settled.filter((s) => s.status === "rejected");
    expect(rejected).toEqual([]);
    const results = settled.map((s) => (s as PromiseFulfilledResult<ChatResult>).value);
    results.forEach((r, i) => {
      expect(r.content).toBe(mockReply(prompts[i]));
      expect(r.cached).toBeUndefined();
    });

    // every fault kind really happened
    for (const f of ["429", "500", "hang", "malformed"] as const) expect(server.count(f)).toBeGreaterThan(3);

    // 2. accounted for exactly once: one successful server answer per prompt, meter totals match the server's log
    const okPerPrompt = new Map<string, number>();
    for (const a of server.arrivals)
      if (a.outcome === "ok") okPerPrompt.set(a.prompt, (okPerPrompt.get(a.prompt) ?? 0) + 1);
    expect(okPerPrompt.size).toBe(N);
    // A prompt can get a second server answer only when the client had given up on the first (timeout on a slow
    // answer on a loaded machine): every extra answer is matched by a timeout that was not a hung connection.
    const extraOk = [...okPerPrompt.values()].reduce((s, c) => s + c - 1, 0);
    const timeouts = events.filter((e) => e.type === "retry" && e.kind === "timeout").length;
    expect(timeouts).toBeGreaterThanOrEqual(server.count("hang"));
    expect(extraOk).toBeLessThanOrEqual(timeouts - server.count("hang"));
    const u = meter.snapshot().models[0];
    expect(u.requests).toBe(N);
    expect(u.failures).toBe(0);
    expect(u.cacheHits).toBe(0);
    expect(u.attempts).toBe(server.arrivals.length);
    expect(u.retries).toBe(server.arrivals.length - N);
    expect(events.filter((e) => e.type === "retry").length).toBe(u.retries);
    expect(u.completionTokens).toBe(results.reduce((s, r) => s + r.usage.completionTokens, 0));

    // Retry-After honoured: a prompt's next attempt after a 429 comes >= RETRY_AFTER_MS later
    const byPrompt = new Map<string, { at: number; outcome: Fault }[]>();
    for (const a of server.arrivals) byPrompt.set(a.prompt, [...(byPrompt.get(a.prompt) ?? []), a]);
    for (const list of byPrompt.values())
      for (let i = 0; i + 1 < list.length; i++)
        if (list[i].outcome === "429") expect(list[i + 1].at - list[i].at).toBeGreaterThanOrEqual(RETRY_AFTER_MS - 5);

    // 3. cache consistent: one row per prompt, each equal to the answer returned
    expect(cache.size()).toBe(N);
    requests.forEach((r, i) => {
      expect(cache.get(cacheKey(model.id, cacheableRequest(r)))?.content).toBe(mockReply(prompts[i]));
    });

    // 4. rate limit: in any window of W ms the server saw at most burst + rate * W arrivals (+1 for edges),
    // and the whole batch took at least (attempts - burst) / rate
    const perMs = RPM / 60_000;
    const burst = (RPM / 60) * BURST_SECONDS;
    const times = server.arrivals.map((a) => a.at).sort((a, b) => a - b);
    for (const W of [100, 500, 1000]) {
      let j = 0;
      let worst = 0;
      for (let i = 0; i < times.length; i++) {
        while (times[i] - times[j] > W) j++;
        worst = Math.max(worst, i - j + 1);
      }
      // + 50 ms of slack: arrival times are taken at the server, after socket delivery jitter on a loaded machine
      expect(worst).toBeLessThanOrEqual(Math.floor(burst + perMs * (W + 50)) + 1);
    }
    expect(elapsedMs).toBeGreaterThanOrEqual(((server.arrivals.length - burst) / perMs) * 0.98);

    // a re-run costs nothing: all from the cache, no new server traffic
    const before = server.arrivals.length;
    const again = await model.chatMany(requests);
    expect(again.every((r) => r.cached === true)).toBe(true);
    expect(server.arrivals.length).toBe(before);
    expect(meter.snapshot().models[0].cacheHits).toBe(N);
    cache.close();
  });
});
