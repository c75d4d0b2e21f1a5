import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuiltinModel } from "./providers/builtin.ts";
import { LlamaCppModel } from "./providers/llamacpp.ts";
import { OpenAICompatibleModel } from "./providers/openai-compatible.ts";
import { type RunningServer, startOpenAIServer } from "./server.ts";
import { describeChatModelConformance } from "./testing/conformance.ts";
import { writeTinyGguf, writeTinyHfModel } from "./testing/tiny-model.ts";
import type { ChatRequest } from "./types.ts";

const root = mkdtempSync(path.join(tmpdir(), "serve-"));
const modelDir = writeTinyHfModel(path.join(root, "tiny-demo"));
const repoRoot = path.resolve(import.meta.dirname, "../..");
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeChatModelConformance("openai-compatible provider -> breakfix server (in-process) -> builtin", async () => {
  const server = await startOpenAIServer(await BuiltinModel.load({ model: modelDir }), { modelName: "tiny" });
  return {
    model: new OpenAICompatibleModel({ baseUrl: server.url, model: "tiny" }),
    teardown: () => server.close(),
    maxTokens: 8,
  };
});

describe("OpenAI-compatible server", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startOpenAIServer(await BuiltinModel.load({ model: modelDir }), {
      modelName: "tiny",
      apiKey: "sk-serve-test-0001",
    });
  });
  afterAll(() => server.close());
  const post = (body: unknown, key = "sk-serve-test-0001") =>
    fetch(`${server.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  it("binds 127.0.0.1 and lists the model", async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const r = await fetch(`${server.url}/models`, { headers: { authorization: "Bearer sk-serve-test-0001" } });
    expect(await r.json()).toMatchObject({ object: "list", data: [{ id: "tiny", object: "model" }] });
  });

  it("answers in OpenAI's chat.completion shape", async () => {
    const r = await post({ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 4, temperature: 0 });
    expect(r.status).toBe(200);
    const j = (await r.json()) as {
      object: string;
      choices: { message: { role: string; content: string }; finish_reason: string }[];
      usage: { completion_tokens: number; total_tokens: number; prompt_tokens: number };
    };
    expect(j.object).toBe("chat.completion");
    expect(j.choices[0].message.role).toBe("assistant");
    expect(typeof j.choices[0].message.content).toBe("string");
    expect(j.usage.completion_tokens).toBeLessThanOrEqual(4);
    expect(j.usage.total_tokens).toBe(j.usage.prompt_tokens + j.usage.completion_tokens);
  });

  it("streams as chat.completion.chunk events that add up to the non-streamed answer", async () => {
    const client = new OpenAI({ baseURL: server.url, apiKey: "sk-serve-test-0001", maxRetries: 0 });
    const body = {
      model: "tiny",
      messages: [{ role: "user" as const, content: "the cat" }],
      max_tokens: 6,
      temperature: 0,
    };
    const whole = await client.chat.completions.create(body);
    const stream = await client.chat.completions.create({
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: { completion_tokens: number } | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(whole.choices[0].message.content);
    expect(finish).toBe(whole.choices[0].finish_reason);
    expect(usage?.completion_tokens).toBe(whole.usage?.completion_tokens);
  });

  it("rejects bad keys, bad JSON, invalid fields and unknown models with OpenAI-style errors", async () => {
    expect((await post({ messages: [{ role: "user", content: "x" }] }, "wrong")).status).toBe(401);
    // a prefix or an extension of the key is no key (compared whole, as digests in constant time)
    for (const near of ["sk-serve-test-000", "sk-serve-test-00011", ""])
      expect((await post({ messages: [{ role: "user", content: "x" }] }, near)).status).toBe(401);
    const none = await fetch(`${server.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "x" }] }),
    });
    expect(none.status).toBe(401);
    const bad = await post("{not json");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/not valid JSON/);
    const invalid = await post({ messages: [{ role: "robot", content: "x" }], temperature: 9 });
    expect(invalid.status).toBe(400);
    const msg = ((await invalid.json()) as { error: { message: string } }).error.message;
    expect(msg).toMatch(/messages\.0\.role/);
    expect(msg).toMatch(/temperature/);
    expect((await post({ model: "other", messages: [{ role: "user", content: "x" }] })).status).toBe(404);
    const tooLong = await post({ messages: [{ role: "user", content: "x" }], max_tokens: 100_000 });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as { error: { message: string } }).error.message).toMatch(/exceeds/);
  });
});

/** Starts `breakfix serve ...args --port 0` as a real process; resolves with the URL it prints. */
async function startServe(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(repoRoot, "bin/breakfix.js"), "serve", ...args, "--port", "0"], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 60_000);
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    if (!child.stdout) return reject(new Error("no stdout"));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  return { url, child };
}

describe("breakfix serve (real process) end to end", () => {
  it("serves the same greedy answers as the builtin provider", async () => {
    const { url, child } = await startServe(["--model", modelDir]);
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      const remote = new OpenAICompatibleModel({ baseUrl: url, model: "tiny-demo" });
      const local = await BuiltinModel.load({ model: modelDir });
      const requests: ChatRequest[] = [
        "the cat and the dog",
        "Hello! What is the capital of the river town?",
        "¿Qué es esto?",
        "and or is at en",
      ].map((content) => ({ messages: [{ role: "user", content }], maxTokens: 12, temperature: 0 }));
      requests.push({
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: "hi" },
          { role: "assistant", content: "hello" },
          { role: "user", content: "again" },
        ],
        maxTokens: 12,
        temperature: 0,
      });
      const viaServer = await Promise.all(requests.map((r) => remote.chat(r)));
      const direct = await Promise.all(requests.map((r) => local.chat(r)));
      expect(viaServer.map((r) => r.content)).toEqual(direct.map((r) => r.content));
      expect(viaServer.map((r) => r.usage)).toEqual(direct.map((r) => r.usage));
      expect(viaServer.map((r) => r.finishReason)).toEqual(direct.map((r) => r.finishReason));
      expect(direct.some((r) => r.content.length > 0)).toBe(true);
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("serves a GGUF through llama.cpp with the same greedy answers as the llamacpp provider", async () => {
    const gguf = writeTinyGguf(path.join(root, "tiny.gguf"));
    const { url, child } = await startServe(["--model", gguf, "--sequences", "2", "--context-size", "256"]);
    const local = await LlamaCppModel.load({ model: gguf, sequences: 2, contextSize: 256 });
    try {
      const remote = new OpenAICompatibleModel({ baseUrl: url, model: "tiny" });
      const reqs: ChatRequest[] = ["the cat", "hello there"].map((content) => ({
        messages: [{ role: "user", content }],
        maxTokens: 8,
        temperature: 0,
      }));
      const a = await Promise.all(reqs.map((r) => remote.chat(r)));
      const b = await local.chatMany(reqs);
      expect(a.map((r) => r.content)).toEqual(b.map((r) => r.content));
      expect(a.map((r) => r.usage)).toEqual(b.map((r) => r.usage));
    } finally {
      child.kill("SIGTERM");
      await local.close();
    }
  });
});
