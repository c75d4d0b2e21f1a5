/**
 * `serve`'s request validation against the OpenAI chat-completions reference, on a recording fake model (no engine):
 * the fields the reference marks nullable accept null as "not given", and the sampling penalties it does not apply are
 * refused unless they are their neutral 0 (as UNSUPPORTED_FIELDS refuses every other field it would silently ignore).
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contextOverflowError } from "./errors.ts";
import { type RunningServer, startOpenAIServer } from "./server.ts";
import type { ChatModel, ChatRequest } from "./types.ts";

const seen: ChatRequest[] = [];
const model: ChatModel = {
  id: "fake",
  async chat(r) {
    seen.push(r);
    return {
      content: "ok",
      finishReason: "stop",
      usage: { promptTokens: 1, completionTokens: 1 },
      model: "fake",
      latencyMs: 0,
    };
  },
} as ChatModel;

describe("serve: request fields", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startOpenAIServer(model, { modelName: "m" });
  });
  afterAll(() => server.close());
  const post = async (extra: Record<string, unknown>) => {
    const r = await fetch(`${server.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], ...extra }),
    });
    return { status: r.status, body: (await r.json()) as { error?: { message: string; type: string } } };
  };

  it("takes null for the fields the reference marks nullable, as if they were left out", async () => {
    const nulls = {
      temperature: null,
      top_p: null,
      max_tokens: null,
      max_completion_tokens: null,
      n: null,
      seed: null,
      stop: null,
      stream: null,
      stream_options: null,
      presence_penalty: null,
      frequency_penalty: null,
    };
    seen.length = 0;
    const r = await post(nulls);
    expect(r.body.error).toBeUndefined();
    expect(r.status).toBe(200);
    expect(seen).toHaveLength(1);
    const { signal: _, ...req } = seen[0];
    expect(req).toEqual({ messages: [{ role: "user", content: "hi" }] });
  });

  it("refuses presence_penalty and frequency_penalty other than 0 (not applied), naming the field", async () => {
    for (const field of ["presence_penalty", "frequency_penalty"]) {
      const r = await post({ [field]: 1.5 });
      expect(r.status).toBe(400);
      expect(r.body.error?.type).toBe("invalid_request_error");
      expect(r.body.error?.message).toContain(field);
      expect((await post({ [field]: 0 })).status).toBe(200);
    }
    // an empty logit_bias map is "none" too
    expect((await post({ logit_bias: {} })).status).toBe(200);
    expect((await post({ logit_bias: { "42": 100 } })).status).toBe(400);
  });
});

describe("serve: GET /v1/models/{model}", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startOpenAIServer(model, { modelName: "org/m-1" });
  });
  afterAll(() => server.close());

  it("retrieves the served model by id, and answers 404 model_not_found in OpenAI's shape for another", async () => {
    const r = await fetch(`${server.url}/models/org/m-1`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ id: "org/m-1", object: "model", owned_by: "breakfix" });
    expect((await fetch(`${server.url}/models/org%2Fm-1`)).status).toBe(200);
    expect((await fetch(`${server.url}/models/100%25`)).status).toBe(404);
    const other = await fetch(`${server.url}/models/gpt-4o`);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({
      error: { type: "invalid_request_error", code: "model_not_found", message: expect.stringContaining("gpt-4o") },
    });
  });
});

describe("serve: a streamed request that cannot be answered", () => {
  let server: RunningServer;
  const failing: ChatModel = {
    id: "failing",
    async chat() {
      throw contextOverflowError(5000, 64, 2048);
    },
  } as ChatModel;
  beforeAll(async () => {
    server = await startOpenAIServer(failing, { modelName: "m" });
  });
  afterAll(() => server.close());

  it("gets the non-streamed request's HTTP status and error (400 for a prompt over the context), not 200", async () => {
    const body = { messages: [{ role: "user", content: "hi" }] };
    for (const stream of [false, true]) {
      const r = await fetch(`${server.url}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...body, stream }),
      });
      expect({ stream, status: r.status }).toEqual({ stream, status: 400 });
      expect(r.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await r.json()).toMatchObject({
        error: { type: "invalid_request_error", message: expect.stringMatching(/exceeds the model's 2048 positions/) },
      });
    }
    // the SDK raises its typed error for it, as for OpenAI's own API
    const client = new OpenAI({ baseURL: server.url, apiKey: "none", maxRetries: 0 });
    const streamed = client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    await expect(streamed).rejects.toThrow(OpenAI.BadRequestError);
  });
});
