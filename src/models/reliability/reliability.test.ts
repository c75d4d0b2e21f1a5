import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { contentHash } from "../../domain/hash.ts";
import { Store } from "../../store/index.ts";
import { ModelError, parseRetryAfter } from "../errors.ts";
import { OpenAICompatibleModel } from "../providers/openai-compatible.ts";
import { describeChatModelConformance } from "../testing/conformance.ts";
import { MockChatServer } from "../testing/mock-server.ts";
import type { ChatModel, ChatRequest, ChatResult } from "../types.ts";
import { backoffDelay } from "./backoff.ts";
import {
  cacheableRequest,
  cacheKey,
  MemoryResponseCache,
  providerAnswerSettings,
  type ResponseCache,
  SqliteResponseCache,
} from "./cache.ts";
import { RateLimiter } from "./rate-limiter.ts";
import { ReliableChatModel } from "./reliable.ts";
import { Semaphore } from "./semaphore.ts";
import { StoreResponseCache } from "./store-cache.ts";
import { UsageMeter } from "./usage.ts";

const root = mkdtempSync(path.join(tmpdir(), "reliability-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeChatModelConformance("reliability wrapper over openai-compatible", async () => {
  const server = new MockChatServer();
  const baseUrl = await server.start();
  const model = new ReliableChatModel(
    new OpenAICompatibleModel({ baseUrl, model: "mock" }),
    { concurrency: 2 },
    {
      cache: new MemoryResponseCache(),
    },
  );
  return { model, teardown: () => server.stop() };
});

/** A scripted model: each call pops the next behaviour. */
class Scripted implements ChatModel {
  readonly id = "scripted";
  calls = 0;
  active = 0;
  maxActive = 0;
  constructor(private readonly script: (n: number, req: ChatRequest) => Promise<ChatResult>) {}
  async chat(req: ChatRequest): Promise<ChatResult> {
    const n = this.calls++;
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      return await this.script(n, req);
    } finally {
      this.active--;
    }
  }
}
const ok = (content: string): ChatResult => ({
  content,
  finishReason: "stop",
  usage: { promptTokens: 10, completionTokens: 5 },
  model: "s",
});
const msg = (content: string): ChatRequest => ({ messages: [{ role: "user", content }] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Semaphore", () => {
  it("never exceeds its limit and serves waiters in order", async () => {
    const s = new Semaphore(3);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.run(async () => {
          active++;
          peak = Math.max(peak, active);
          order.push(i);
          await sleep(2);
          active--;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(s.inUse).toBe(0);
    expect(() => new Semaphore(0)).toThrow(/>= 1/);
  });
});

describe("RateLimiter", () => {
  it("passes at most burst + rate * t requests (fake clock)", async () => {
    let now = 0;
    const rl = new RateLimiter({ requestsPerMinute: 600, burstSeconds: 1 }, () => now); // 10/s, burst 10
    let granted = 0;
    for (let i = 0; i < 10; i++) {
      expect(rl.acquire(0)).toBeUndefined(); // budget available: no promise, no wait
      granted++;
    }
    expect(granted).toBe(10);
    let done = false;
    const p = Promise.resolve(rl.acquire(0)).then(() => {
      done = true;
    });
    await sleep(5);
    expect(done).toBe(false); // bucket empty at t = 0
    now = 100; // one request refilled
    await p;
    expect(done).toBe(true);
  });

  it("charges token estimates and corrects them with real usage", async () => {
    let now = 0;
    const rl = new RateLimiter({ tokensPerMinute: 6000, burstSeconds: 1 }, () => now); // 100 tok/s, burst 100
    await rl.acquire(60);
    rl.settle(60, 100); // really used 100: bucket now at 0
    let done = false;
    const p = Promise.resolve(rl.acquire(50)).then(() => {
      done = true;
    });
    await sleep(5);
    expect(done).toBe(false);
    now = 500; // 50 tokens refilled
    await p;
    expect(done).toBe(true);
  });

  it("pauses every waiter on Retry-After", async () => {
    const rl = new RateLimiter({});
    rl.pauseFor(120);
    const t0 = performance.now();
    await rl.acquire(0);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100);
  });

  it("refuses a caller at once while the pause has more than its maxPauseMs left, waiting or not", async () => {
    let now = 0;
    const rl = new RateLimiter({ requestsPerMinute: 60, burstSeconds: 1 }, () => now); // 1/s, burst 1
    expect(rl.acquire(0, 1000)).toBeUndefined();
    const waiting = rl.acquire(0, 1000); // queued for the bucket
    expect(waiting).toBeInstanceOf(Promise);
    rl.pauseFor(3_600_000);
    expect(rl.pausedMs()).toBe(3_600_000);
    expect(() => rl.acquire(0, 1000)).toThrow(/not sent: the endpoint asked to pause 3600 s more/);
    now = 1000; // the bucket refills; the waiter wakes to a pause longer than it will wait
    await expect(waiting).rejects.toMatchObject({ kind: "rate_limit", retryAfterMs: 3_599_000 });
    now = 3_600_000 - 500; // what is left is within the caller's limit: it waits
    const p = rl.acquire(0, 1000);
    let done = false;
    void Promise.resolve(p).then(() => {
      done = true;
    });
    await sleep(5);
    expect(done).toBe(false);
    now = 3_600_000;
    await p;
    expect(done).toBe(true);
  });
});

describe("backoff and Retry-After", () => {
  it("grows exponentially with full jitter, capped", () => {
    expect(backoffDelay(1, { baseMs: 100 }, undefined, () => 0.999)).toBe(100);
    expect(backoffDelay(4, { baseMs: 100 }, undefined, () => 0.999)).toBe(799);
    expect(backoffDelay(20, { baseMs: 100, maxMs: 5000 }, undefined, () => 0.5)).toBe(2500);
    expect(backoffDelay(3, { baseMs: 100 }, undefined, () => 0)).toBe(0);
  });
  it("waits at least the server's Retry-After", () => {
    expect(backoffDelay(1, { baseMs: 100 }, 2000, () => 0)).toBe(2000);
    expect(backoffDelay(1, { baseMs: 100 }, 2000, () => 1)).toBe(2200);
  });
  it("parses delta-seconds, HTTP-dates and retry-after-ms", () => {
    const h = (m: Record<string, string>) => (n: string) => m[n];
    expect(parseRetryAfter(h({ "retry-after": "3" }))).toBe(3000);
    expect(parseRetryAfter(h({ "retry-after": "0.5" }))).toBe(500);
    expect(parseRetryAfter(h({ "retry-after-ms": "250", "retry-after": "9" }))).toBe(250);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter(h({ "retry-after": "Thu, 01 Jan 2026 00:00:05 GMT" }), now)).toBe(5000);
    expect(parseRetryAfter(h({ "retry-after": "soon" }))).toBeUndefined();
    expect(parseRetryAfter(h({}))).toBeUndefined();
  });
});

describe("response caches", () => {
  const creq = cacheableRequest({
    messages: [{ role: "user", content: "x" }],
    temperature: 0,
    maxTokens: 4,
    signal: new AbortController().signal,
    noCache: false,
  });
  const value = { content: "y", finishReason: "stop" as const, model: "m", promptTokens: 1, completionTokens: 1 };
  const caches: [string, () => ResponseCache][] = [
    ["memory", () => new MemoryResponseCache()],
    ["sqlite", () => new SqliteResponseCache(path.join(root, `c-${Math.random()}.db`))],
    ["store", () => new StoreResponseCache(Store.openFile(path.join(root, `s-${Math.random()}.db`)))],
  ];
  it("keys on model id, messages and parameters only", () => {
    expect(creq).toEqual({ messages: [{ role: "user", content: "x" }], params: { temperature: 0, maxTokens: 4 } });
    const k = cacheKey("m1", creq);
    expect(cacheKey("m1", { ...creq, params: { maxTokens: 4, temperature: 0 } })).toBe(k);
    expect(cacheKey("m2", creq)).not.toBe(k);
    expect(cacheKey("m1", { ...creq, params: { ...creq.params, seed: 1 } })).not.toBe(k);
  });
  it("keys on a model's answer settings when it has any, and hashes a request without them as it always did", () => {
    // the v1 key of a request with no answer settings (every demo request: local engines have none): unchanged
    expect(cacheKey("m1", creq)).toBe(contentHash({ v: 1, model: "m1", messages: creq.messages, params: creq.params }));
    expect(cacheKey("m1", cacheableRequest({ messages: creq.messages, temperature: 0, maxTokens: 4 }, {}))).toBe(
      cacheKey("m1", creq),
    );
    const json = { messages: creq.messages, temperature: 0, maxTokens: 4, jsonSchema: { name: "v", schema: {} } };
    const modes = ["json_schema", "json_object", "none"].map((m) =>
      cacheKey("m1", cacheableRequest(json, providerAnswerSettings(json, m, undefined))),
    );
    expect(new Set(modes).size).toBe(3);
    // a provider default the request leaves unset changes the answer; one the request overrides does not
    const r = { messages: creq.messages, temperature: 0 };
    expect(providerAnswerSettings(r, "json_schema", undefined)).toBeUndefined();
    expect(providerAnswerSettings(r, "json_schema", { temperature: 1 })).toBeUndefined();
    expect(providerAnswerSettings(r, "json_schema", { topP: 0.9, stop: ["x"] })).toEqual({
      "default.topP": 0.9,
      "default.stop": '["x"]',
    });
  });
  for (const [name, make] of caches)
    it(`${name}: get after put, first write wins, size counts`, () => {
      const c = make();
      expect(c.get("k")).toBeUndefined();
      c.put("k", "m", creq, value);
      expect(c.get("k")).toEqual(value);
      c.put("k", "m", creq, { ...value, content: "other" });
      expect(c.get("k")?.content).toBe("y");
      expect(c.size()).toBe(1);
      c.close?.();
    });
  for (const [name, make] of caches)
    it(`${name}: keeps the content filter's categories of a blocked answer`, () => {
      const c = make();
      const blocked = {
        ...value,
        content: "",
        finishReason: "content_filter" as const,
        filter: { categories: [{ name: "jailbreak" }, { name: "violence", severity: "medium" }] },
      };
      c.put("b", "m", creq, blocked);
      c.put("k", "m", creq, value);
      expect(c.size()).toBe(2); // written through (sqlite, store), then read back
      expect(c.get("b")).toEqual(blocked);
      expect(c.get("k")).toEqual(value); // no filter: none comes back
      c.close?.();
    });
  it("sqlite: a cache table made before the filter column gets it, and its rows still answer", () => {
    const file = path.join(root, "old-cache.db");
    const db = new Database(file);
    db.exec(`CREATE TABLE model_response_cache (key TEXT PRIMARY KEY, model_id TEXT NOT NULL, request_json TEXT NOT NULL,
      content TEXT NOT NULL, finish_reason TEXT NOT NULL, model TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,
      completion_tokens INTEGER NOT NULL, created_at TEXT NOT NULL)`);
    db.prepare("INSERT INTO model_response_cache VALUES ('old', 'm', '{}', 'y', 'stop', 'm', 1, 1, 'then')").run();
    db.close();
    const c = new SqliteResponseCache(file);
    expect(c.get("old")).toEqual(value);
    const filter = { categories: [{ name: "hate", severity: "high" }] };
    c.put("new", "m", creq, { ...value, content: "", finishReason: "content_filter", filter });
    c.close();
    const again = new SqliteResponseCache(file);
    expect(again.get("new")?.filter).toEqual(filter);
    again.close();
  });
  it("sqlite: persists across reopen", () => {
    const file = path.join(root, "persist.db");
    const a = new SqliteResponseCache(file);
    a.put("k1", "m", creq, value);
    a.close();
    const b = new SqliteResponseCache(file);
    expect(b.get("k1")).toEqual(value);
    b.close();
  });
});

describe("ReliableChatModel", () => {
  it("retries retryable errors, honours Retry-After, and accounts attempts", async () => {
    const inner = new Scripted(async (n) => {
      if (n === 0) throw new ModelError("HTTP 429", "rate_limit", { status: 429, retryAfterMs: 80 });
      if (n === 1) throw new ModelError("HTTP 503", "server", { status: 503 });
      return ok("fine");
    });
    const meter = new UsageMeter({ scripted: { inputPerMTok: 1_000_000, outputPerMTok: 2_000_000 } });
    const events: string[] = [];
    const m = new ReliableChatModel(
      inner,
      { baseMs: 1 },
      { meter, onEvent: (e) => events.push(`${e.type}:${e.type === "retry" ? e.kind : ""}`) },
    );
    const t0 = performance.now();
    const r = await m.chat(msg("x"));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
    expect(r.content).toBe("fine");
    expect(events).toEqual(["retry:rate_limit", "retry:server"]);
    const u = meter.snapshot().models[0];
    expect(u).toMatchObject({
      requests: 1,
      attempts: 3,
      retries: 2,
      failures: 0,
      promptTokens: 10,
      completionTokens: 5,
    });
    expect(u.costUsd).toBeCloseTo(10 + 10, 6);
  });

  it("does not retry client errors and gives up after maxRetries", async () => {
    const bad = new Scripted(async () => {
      throw new ModelError("HTTP 400: bad", "client", { status: 400 });
    });
    const meter = new UsageMeter();
    await expect(new ReliableChatModel(bad, {}, { meter }).chat(msg("x"))).rejects.toMatchObject({ kind: "client" });
    expect(bad.calls).toBe(1);
    const flaky = new Scripted(async () => {
      throw new ModelError("HTTP 500", "server", { status: 500 });
    });
    await expect(
      new ReliableChatModel(flaky, { maxRetries: 2, baseMs: 1 }, { meter }).chat(msg("x")),
    ).rejects.toMatchObject({ kind: "server" });
    expect(flaky.calls).toBe(3);
    expect(meter.snapshot().models[0].failures).toBe(2);
  });

  it("gives up at once when Retry-After exceeds maxRetryAfterMs", async () => {
    const inner = new Scripted(async () => {
      throw new ModelError("HTTP 429", "rate_limit", { status: 429, retryAfterMs: 600_000 });
    });
    const events: string[] = [];
    const m = new ReliableChatModel(inner, { maxRetryAfterMs: 1000 }, { onEvent: (e) => events.push(e.type) });
    const t0 = performance.now();
    await expect(m.chat(msg("x"))).rejects.toThrow(/retry after 600 s/);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(inner.calls).toBe(1);
    expect(events).toEqual(["failure"]);
  });

  it("pauses the endpoint on a long Retry-After, so the queued requests fail unsent instead of each getting the 429", async () => {
    const inner = new Scripted(async () => {
      await sleep(5);
      throw new ModelError("HTTP 429: quota exhausted", "rate_limit", { status: 429, retryAfterMs: 3_600_000 });
    });
    const events: string[] = [];
    const meter = new UsageMeter();
    const m = new ReliableChatModel(
      inner,
      { concurrency: 2, maxRetryAfterMs: 1000 },
      { meter, onEvent: (e) => events.push(`${e.type}:${e.type === "failure" ? e.attempts : ""}`) },
    );
    const settled = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => m.chat(msg(`q${i}`))));
    // only the two sent before the first 429 came back reached the endpoint
    expect(inner.calls).toBe(2);
    expect(settled.every((s) => s.status === "rejected")).toBe(true);
    const errors = settled.map((s) => (s as PromiseRejectedResult).reason as ModelError);
    expect(errors.every((e) => e.kind === "rate_limit")).toBe(true);
    expect(errors.filter((e) => /HTTP 429: quota exhausted/.test(e.message))).toHaveLength(2);
    expect(errors.filter((e) => /not sent: the endpoint asked to pause 3600 s more/.test(e.message))).toHaveLength(48);
    expect(events.filter((e) => e === "failure:1")).toHaveLength(2);
    expect(events.filter((e) => e === "failure:0")).toHaveLength(48);
    expect(meter.snapshot().models[0]).toMatchObject({ requests: 0, attempts: 2, failures: 50 });
    // a later request is refused unsent too, while the pause lasts
    await expect(m.chat(msg("later"))).rejects.toThrow(/not sent/);
    expect(inner.calls).toBe(2);
  });

  it("times out a hung attempt and retries it", async () => {
    const inner = new Scripted(
      (n, req) =>
        new Promise((resolve, reject) => {
          if (n > 0) return resolve(ok("after timeout"));
          req.signal?.addEventListener("abort", () =>
            reject(Object.assign(new Error("aborted"), { name: "AbortError" })),
          );
        }),
    );
    const m = new ReliableChatModel(inner, { timeoutMs: 50, baseMs: 1 });
    expect((await m.chat(msg("x"))).content).toBe("after timeout");
    expect(inner.calls).toBe(2);
  });

  it("stops at once when the caller aborts", async () => {
    const inner = new Scripted(async () => {
      throw new ModelError("HTTP 500", "server", { status: 500 });
    });
    const ac = new AbortController();
    const m = new ReliableChatModel(inner, { baseMs: 10_000 });
    const p = m.chat({ ...msg("x"), signal: ac.signal });
    await sleep(20);
    ac.abort();
    await expect(p).rejects.toMatchObject({ kind: "aborted" });
    expect(inner.calls).toBe(1);
  });

  it("enforces the concurrency limit", async () => {
    const inner = new Scripted(async (n) => {
      await sleep(5);
      return ok(String(n));
    });
    await new ReliableChatModel(inner, { concurrency: 4 }).chatMany(Array.from({ length: 30 }, (_, i) => msg(`p${i}`)));
    expect(inner.maxActive).toBe(4);
  });

  it("serves repeats from the cache and shares in-flight duplicates", async () => {
    const inner = new Scripted(async (_n, req) => {
      await sleep(10);
      return ok(`answer to ${req.messages[0].content}`);
    });
    const cache = new MemoryResponseCache();
    const meter = new UsageMeter({ scripted: { inputPerMTok: 1, outputPerMTok: 1 } });
    const m = new ReliableChatModel(inner, {}, { cache, meter });
    const rs = await m.chatMany([msg("a"), msg("a"), msg("b")]);
    expect(inner.calls).toBe(2);
    expect(rs.map((r) => r.content)).toEqual(["answer to a", "answer to a", "answer to b"]);
    expect(rs.map((r) => r.cached ?? false)).toEqual([false, true, false]);
    const again = await m.chat(msg("b"));
    expect(again.cached).toBe(true);
    expect(inner.calls).toBe(2);
    const fresh = await m.chat({ ...msg("b"), noCache: true });
    expect(fresh.cached).toBeUndefined();
    expect(inner.calls).toBe(3);
    const u = meter.snapshot().models[0];
    expect(u).toMatchObject({ requests: 5, cacheHits: 2, attempts: 3 });
    expect(u.savedUsd).toBeGreaterThan(0);
    expect(cache.size()).toBe(2);
  });
});
