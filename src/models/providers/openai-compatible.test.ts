import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { isInvisible } from "../../domain/escape.ts";
import { MAX_ENDPOINT_TEXT, ModelError } from "../errors.ts";
import { cacheableRequest, cacheKey, MemoryResponseCache } from "../reliability/cache.ts";
import { ReliableChatModel } from "../reliability/reliable.ts";
import { describeChatModelConformance } from "../testing/conformance.ts";
import { MockChatServer, mockReply } from "../testing/mock-server.ts";
import { filterCategories, OpenAICompatibleModel } from "./openai-compatible.ts";

describeChatModelConformance("openai-compatible (real local HTTP server)", async () => {
  const server = new MockChatServer();
  const baseUrl = await server.start();
  return { model: new OpenAICompatibleModel({ baseUrl, model: "mock" }), teardown: () => server.stop() };
});

describe("OpenAICompatibleModel", () => {
  it("maps a request to the chat-completions body, with json_schema where asked", () => {
    const m = new OpenAICompatibleModel({ baseUrl: "http://127.0.0.1:1/v1/", model: "m", defaults: { topP: 0.9 } });
    expect(m.id).toBe("openai-compatible:http://127.0.0.1:1/v1#m");
    const body = m.body({
      messages: [{ role: "user", content: "x" }],
      temperature: 0,
      maxTokens: 5,
      stop: ["\n"],
      seed: 3,
      topK: 4,
      jsonSchema: { name: "verdict", schema: { type: "object" } },
    });
    expect(body).toEqual({
      model: "m",
      messages: [{ role: "user", content: "x" }],
      temperature: 0,
      top_p: 0.9,
      top_k: 4,
      max_tokens: 5,
      stop: ["\n"],
      seed: 3,
      response_format: {
        type: "json_schema",
        json_schema: { name: "verdict", schema: { type: "object" }, strict: false },
      },
    });
    const legacy = new OpenAICompatibleModel({
      model: "m",
      structuredOutput: "json_object",
      maxTokensField: "max_completion_tokens",
    });
    const b2 = legacy.body({ messages: [], maxTokens: 7, jsonSchema: { name: "v", schema: {} } });
    expect(b2.response_format).toEqual({ type: "json_object" });
    expect(b2.max_completion_tokens).toBe(7);
    expect(b2.max_tokens).toBeUndefined();
  });

  it("sends the bearer key and classifies HTTP failures", async () => {
    const server = new MockChatServer({
      apiKey: "sk-test-123456789",
      fault: (n) => (n === 1 ? "429" : n === 2 ? "500" : n === 3 ? "malformed" : "ok"),
    });
    const baseUrl = await server.start();
    try {
      const good = new OpenAICompatibleModel({ baseUrl, model: "mock", apiKey: "sk-test-123456789" });
      const r = await good.chat({ messages: [{ role: "user", content: "hi" }] });
      expect(r.content).toBe(mockReply("hi"));
      const errs: ModelError[] = [];
      for (let i = 0; i < 3; i++)
        await good.chat({ messages: [{ role: "user", content: "hi" }] }).catch((e) => errs.push(e));
      expect(errs.map((e) => e.kind)).toEqual(["rate_limit", "server", "malformed"]);
      expect(errs[0].retryAfterMs).toBe(1000);
      expect(errs.every((e) => e.retryable)).toBe(true);
      const bad = new OpenAICompatibleModel({ baseUrl, model: "mock", apiKey: "wrong-key-000000" });
      const authErr = await bad.chat({ messages: [{ role: "user", content: "hi" }] }).catch((e: ModelError) => e);
      expect(authErr).toBeInstanceOf(ModelError);
      expect((authErr as ModelError).kind).toBe("auth");
      expect((authErr as ModelError).retryable).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it("enforces ChatRequest.timeoutMs itself (handlesTimeout) and reports a retryable timeout", async () => {
    const server = new MockChatServer({ fault: () => "hang" });
    const baseUrl = await server.start();
    try {
      const m = new OpenAICompatibleModel({ baseUrl, model: "mock" });
      expect(m.handlesTimeout).toBe(true);
      const t0 = performance.now();
      const err = (await m
        .chat({ messages: [{ role: "user", content: "hi" }], timeoutMs: 150 })
        .catch((e) => e)) as ModelError;
      expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
      expect(err).toBeInstanceOf(ModelError);
      expect(err.kind).toBe("timeout");
      expect(err.retryable).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it("passes Unicode prompts through intact (the mock echoes them)", async () => {
    const server = new MockChatServer();
    const baseUrl = await server.start();
    try {
      const prompt = "¿Qué es esto? 这是什么 🚀 \u200b עברית";
      const r = await new OpenAICompatibleModel({ baseUrl, model: "mock" }).chat({
        messages: [{ role: "user", content: prompt }],
      });
      expect(r.content).toBe(mockReply(prompt));
    } finally {
      await server.stop();
    }
  });

  it("talks to Azure OpenAI deployments (path, api-version, api-key header)", async () => {
    const server = new MockChatServer();
    const baseUrl = await server.start();
    try {
      const endpoint = baseUrl.replace(/\/v1$/, "");
      const m = new OpenAICompatibleModel({
        model: "gpt-4o",
        apiKey: "azure-key-0123456789",
        azure: { endpoint, apiVersion: "2024-10-21", deployment: "prod-gpt4o" },
      });
      const r = await m.chat({ messages: [{ role: "user", content: "hi azure" }] });
      expect(r.content).toBe(mockReply("hi azure"));
      const a = server.arrivals[0];
      expect(a.url).toBe("/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21");
      expect(a.auth.apiKey).toBe("azure-key-0123456789");
    } finally {
      await server.stop();
    }
  });

  it("reports connection failures as retryable network errors", async () => {
    const m = new OpenAICompatibleModel({ baseUrl: "http://127.0.0.1:9/v1", model: "mock" });
    const err = (await m.chat({ messages: [{ role: "user", content: "hi" }] }).catch((e) => e)) as ModelError;
    expect(err).toBeInstanceOf(ModelError);
    expect(err.kind).toBe("network");
    expect(err.retryable).toBe(true);
  });

  it("quotes an endpoint's error text escaped, on one line and cut short", async () => {
    const message = `bad input: \u001b]0;pwned\u0007\u001b[2J\u202eeulav\n${"z".repeat(20_000)}`;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message, type: "invalid_request_error" } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const m = new OpenAICompatibleModel({ baseUrl, model: "m" });
      const err = (await m.chat({ messages: [{ role: "user", content: "hi" }] }).catch((e) => e)) as ModelError;
      expect(err).toBeInstanceOf(ModelError);
      expect(err.kind).toBe("client");
      expect(err.message.startsWith("HTTP 400: bad input: \\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{202e}eulav\\nzzz")).toBe(
        true,
      );
      expect(err.message).not.toContain("\n");
      expect([...err.message].filter((ch) => isInvisible(ch.codePointAt(0) ?? 0))).toEqual([]);
      expect(err.message.length).toBeLessThan(MAX_ENDPOINT_TEXT + 60);
      expect(err.message.endsWith("z…")).toBe(true);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

/** A real local server that answers every chat completion with the next of `messages` as choices[0].message. */
async function answeringServer(messages: Record<string, unknown>[], finishReason = "stop") {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const message = messages[Math.min(n++, messages.length - 1)];
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "chatcmpl-1",
          object: "chat.completion",
          created: 0,
          model: "m",
          choices: [{ index: 0, message, finish_reason: finishReason }],
          usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("OpenAICompatibleModel answer text", () => {
  it("reads the text parts of a content array (Mistral's Magistral answers in chunks), not an empty answer", async () => {
    const s = await answeringServer([
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: [{ type: "text", text: "the user wants X; I should refuse" }] },
          { type: "text", text: "Here is " },
          { type: "text", text: "the answer." },
        ],
      },
    ]);
    try {
      const r = await new OpenAICompatibleModel({ baseUrl: s.baseUrl, model: "m" }).chat({
        messages: [{ role: "user", content: "hi" }],
      });
      expect(r.content).toBe("Here is the answer.");
    } finally {
      await s.close();
    }
  });

  it("returns a refusal (content null, message.refusal set, as OpenAI's structured outputs answer) as the answer's text", async () => {
    const s = await answeringServer([
      { role: "assistant", content: null, refusal: "I'm sorry, I can't help with that request." },
    ]);
    try {
      const r = await new OpenAICompatibleModel({ baseUrl: s.baseUrl, model: "m" }).chat({
        messages: [{ role: "user", content: "hi" }],
        jsonSchema: { name: "v", schema: { type: "object" } },
      });
      expect(r.content).toBe("I'm sorry, I can't help with that request.");
      expect(r.finishReason).toBe("stop");
    } finally {
      await s.close();
    }
  });
});

describe("OpenAICompatibleModel token limit field", () => {
  it("sends max_completion_tokens to OpenAI's own API (max_tokens is deprecated there and refused by o-series and GPT-5 models)", async () => {
    const sent: { url: string; body: Record<string, unknown> }[] = [];
    // OpenAI's host cannot be served locally: this fetch records what the SDK puts on the wire.
    const recording = (async (input: string | URL | Request, init?: RequestInit) => {
      sent.push({ url: String(input), body: JSON.parse(String(init?.body)) });
      return new Response(
        JSON.stringify({
          id: "c",
          object: "chat.completion",
          created: 0,
          model: "gpt-5-mini",
          choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
        }),
        { status: 200, headers: { "content-type": "application/json" } },
      );
    }) as typeof fetch;
    const ask = { messages: [{ role: "user" as const, content: "hi" }], maxTokens: 64 };
    await new OpenAICompatibleModel({ model: "gpt-5-mini", apiKey: "sk-test-0000000000", fetch: recording }).chat(ask);
    await new OpenAICompatibleModel({
      baseUrl: "https://api.openai.com/v1/",
      model: "o3",
      apiKey: "sk-test-0000000000",
      fetch: recording,
    }).chat(ask);
    // other servers keep max_tokens (what vLLM, Ollama and llama.cpp server have always read)
    await new OpenAICompatibleModel({ baseUrl: "http://127.0.0.1:8000/v1", model: "m", fetch: recording }).chat(ask);
    expect(sent.map((s) => s.url)).toEqual([
      "https://api.openai.com/v1/chat/completions",
      "https://api.openai.com/v1/chat/completions",
      "http://127.0.0.1:8000/v1/chat/completions",
    ]);
    expect(sent.map((s) => [s.body.max_completion_tokens, s.body.max_tokens])).toEqual([
      [64, undefined],
      [64, undefined],
      [undefined, 64],
    ]);
  });
});

describe("OpenAICompatibleModel quota errors", () => {
  it("does not retry OpenAI's 429 insufficient_quota (billing: no retry can succeed), but still retries a rate limit", async () => {
    const { ReliableChatModel } = await import("../reliability/reliable.ts");
    let n = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        n++;
        res.writeHead(429, { "content-type": "application/json" });
        const quota = req.url?.includes("quota");
        res.end(
          JSON.stringify({
            error: quota
              ? {
                  message: "You exceeded your current quota, please check your plan and billing details.",
                  type: "insufficient_quota",
                  param: null,
                  code: "insufficient_quota",
                }
              : {
                  message: "Rate limit reached for requests",
                  type: "requests",
                  param: null,
                  code: "rate_limit_exceeded",
                },
          }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const ask = { messages: [{ role: "user" as const, content: "hi" }] };
      const quota = new ReliableChatModel(
        new OpenAICompatibleModel({ baseUrl: `http://127.0.0.1:${port}/quota/v1`, model: "m" }),
        { maxRetries: 3, baseMs: 1, maxMs: 2 },
      );
      const err = (await quota.chat(ask).catch((e) => e)) as ModelError;
      expect(err).toBeInstanceOf(ModelError);
      expect(err.status).toBe(429);
      expect(err.retryable).toBe(false);
      expect(err.message).toContain("exceeded your current quota");
      expect(n).toBe(1);
      n = 0;
      const limited = new ReliableChatModel(
        new OpenAICompatibleModel({ baseUrl: `http://127.0.0.1:${port}/v1`, model: "m" }),
        { maxRetries: 3, baseMs: 1, maxMs: 2 },
      );
      const err2 = (await limited.chat(ask).catch((e) => e)) as ModelError;
      expect(err2.kind).toBe("rate_limit");
      expect(n).toBe(4);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("OpenAICompatibleModel error text", () => {
  it("quotes error bodies that are not OpenAI-shaped (vLLM's top-level message, FastAPI's detail), not '(no body)'", async () => {
    const bodies: Record<string, { status: number; body: string }> = {
      "/vllm/chat/completions": {
        status: 400,
        body: JSON.stringify({
          object: "error",
          message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.",
          type: "BadRequestError",
          param: null,
          code: 400,
        }),
      },
      "/chat/completions": { status: 404, body: JSON.stringify({ detail: "Not Found" }) },
      "/plain/chat/completions": { status: 503, body: JSON.stringify("model is loading") },
    };
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const b = bodies[req.url ?? ""] ?? { status: 500, body: "{}" };
        res.writeHead(b.status, { "content-type": "application/json", "retry-after": "2" });
        res.end(b.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const ask = { messages: [{ role: "user" as const, content: "hi" }] };
      const fail = async (baseUrl: string) =>
        (await new OpenAICompatibleModel({ baseUrl, model: "m" }).chat(ask).catch((e) => e)) as ModelError;
      const vllm = await fail(`${base}/vllm`);
      expect(vllm.kind).toBe("client");
      expect(vllm.message).toBe(
        "HTTP 400: This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.",
      );
      const notFound = await fail(base);
      expect(notFound.status).toBe(404);
      expect(notFound.message).toContain('{"detail":"Not Found"}');
      const loading = await fail(`${base}/plain`);
      expect(loading.kind).toBe("server");
      expect(loading.message).toContain("model is loading");
      expect(loading.retryAfterMs).toBe(2000);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("OpenAICompatibleModel response-cache key", () => {
  it("two requests that differ only in the structured-output mode do not share a cache entry; requests without a schema keep their key", async () => {
    // the fake endpoint answers with the response_format it was sent, so a shared entry would show the wrong mode
    const fakeFetch = (async (_url: string | URL | Request, init?: RequestInit) => {
      const body = JSON.parse(String(init?.body)) as { response_format?: { type: string } };
      return new Response(
        JSON.stringify({
          id: "c",
          object: "chat.completion",
          created: 0,
          model: "m",
          choices: [
            {
              index: 0,
              message: { role: "assistant", content: body.response_format?.type ?? "plain" },
              finish_reason: "stop",
            },
          ],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
        { status: 200, headers: { "content-type": "application/json" } },
      );
    }) as typeof fetch;
    const cache = new MemoryResponseCache();
    const wrap = (structuredOutput: "json_schema" | "json_object" | "none") =>
      new ReliableChatModel(
        new OpenAICompatibleModel({ baseUrl: "http://127.0.0.1:1/v1", model: "m", structuredOutput, fetch: fakeFetch }),
        { maxRetries: 0 },
        { cache },
      );
    const [schemaMode, objectMode, noneMode] = [wrap("json_schema"), wrap("json_object"), wrap("none")];
    expect(schemaMode.id).toBe(objectMode.id); // one endpoint, one model: the id alone cannot tell them apart
    const ask = { messages: [{ role: "user" as const, content: "rate" }], jsonSchema: { name: "v", schema: {} } };
    expect((await schemaMode.chat(ask)).content).toBe("json_schema");
    expect((await objectMode.chat(ask)).content).toBe("json_object");
    expect((await noneMode.chat(ask)).content).toBe("plain");
    expect((await objectMode.chat(ask)).cached).toBe(true);
    expect(cache.size()).toBe(3);
    // a request without a schema is answered the same in every mode: one entry, under the key it always had
    const plain = { messages: [{ role: "user" as const, content: "hi" }], temperature: 0 };
    await schemaMode.chat(plain);
    expect((await objectMode.chat(plain)).cached).toBe(true);
    expect(cache.get(cacheKey(schemaMode.id, cacheableRequest(plain)))?.content).toBe("plain");
  });
});

describe("OpenAICompatibleModel content filter (Azure OpenAI)", () => {
  it("records a prompt the deployment's filter blocks (400 content_filter) as a blocked answer, sent once and not retried, cached", async () => {
    const server = new MockChatServer({
      fault: (_n, body) => (JSON.stringify(body).includes("attack") ? "content_filter" : "ok"),
    });
    const baseUrl = await server.start();
    try {
      const endpoint = baseUrl.replace(/\/v1$/, "");
      const cache = new MemoryResponseCache();
      const m = new ReliableChatModel(
        new OpenAICompatibleModel({ model: "gpt-4o", apiKey: "k", azure: { endpoint, apiVersion: "2024-10-21" } }),
        { maxRetries: 3, baseMs: 1 },
        { cache },
      );
      const r = await m.chat({ messages: [{ role: "user", content: "an attack" }] });
      expect(r.finishReason).toBe("content_filter");
      expect(r.content).toBe("");
      // the categories the filter filtered on (innererror.content_filter_result), not those it let through
      const filter = { categories: [{ name: "jailbreak" }, { name: "violence", severity: "medium" }] };
      expect(r.filter).toEqual(filter);
      expect(server.arrivals).toHaveLength(1);
      const again = await m.chat({ messages: [{ role: "user", content: "an attack" }] });
      expect(again).toMatchObject({ finishReason: "content_filter", filter, cached: true });
      expect(server.arrivals).toHaveLength(1); // the cached verdict of the deployment
      // an ordinary 400 is still an error
      expect((await m.chat({ messages: [{ role: "user", content: "fine" }] })).finishReason).toBe("stop");
    } finally {
      await server.stop();
    }
  });

  it("records a completion the filter withheld (200, finish_reason content_filter) as blocked", async () => {
    const server = new MockChatServer({ fault: () => "filtered" });
    const baseUrl = await server.start();
    try {
      const m = new OpenAICompatibleModel({
        model: "gpt-4o",
        apiKey: "k",
        azure: { endpoint: baseUrl.replace(/\/v1$/, ""), apiVersion: "2024-10-21" },
      });
      const r = await m.chat({ messages: [{ role: "user", content: "x" }] });
      expect(r).toMatchObject({ content: "", finishReason: "content_filter" });
      expect(r.filter).toEqual({ categories: [{ name: "violence", severity: "high" }] });
    } finally {
      await server.stop();
    }
  });

  it("keeps only the categories filtered: true from either shape, with a severity when it is text", () => {
    expect(
      filterCategories({
        hate: { filtered: false, severity: "safe" },
        self_harm: { filtered: true, severity: "low" },
        protected_material_text: { filtered: true, detected: true },
        profanity: { filtered: false, detected: true },
        custom_blocklists: { filtered: true, details: [{ filtered: true, id: "words" }] },
        listed: [
          { filtered: false, id: "a" },
          { filtered: true, id: "b" },
        ],
        sexual: { filtered: true, severity: 4 },
        error: { code: "x", message: "y" },
      }),
    ).toEqual({
      categories: [
        { name: "self_harm", severity: "low" },
        { name: "protected_material_text" },
        { name: "custom_blocklists" },
        { name: "listed" },
        { name: "sexual" },
      ],
    });
    for (const none of [undefined, null, "violence", [], {}, { hate: { filtered: false, severity: "safe" } }])
      expect(filterCategories(none)).toBeUndefined();
    // provider text is cut (and escaped where shown: judges/blocked.ts)
    const long = filterCategories({ ["x".repeat(500)]: { filtered: true, severity: "y".repeat(500) } });
    expect(long?.categories[0].name).toHaveLength(64);
    expect(long?.categories[0].severity).toHaveLength(64);
  });

  it("still fails on a 400 that is not the content filter", async () => {
    const server = new MockChatServer({ fault: () => "400" });
    const baseUrl = await server.start();
    try {
      const m = new OpenAICompatibleModel({ baseUrl, model: "m" });
      await expect(m.chat({ messages: [{ role: "user", content: "x" }] })).rejects.toMatchObject({ kind: "client" });
    } finally {
      await server.stop();
    }
  });
});
