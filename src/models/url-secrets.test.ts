/**
 * Secrets written inside an endpoint URL (issue 23): `https://user:KEY@host/v1` and query parameters (`?api_key=KEY`,
 * `?subscription-key=`, `?code=`, any name but api-version) are sent as credentials but never kept in the model id
 * (stored in every record, printed in every table), and redactSecrets scrubs them from messages. End to end:
 * `breakfix bench` on such a URL leaves the key in no output and no file.
 */
import fs, { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBreakfix } from "../cli/testing.ts";
import { sharedDatasetsDir } from "../datasets/paths.ts";
import { AnthropicModel } from "./providers/anthropic.ts";
import { OpenAICompatibleModel } from "./providers/openai-compatible.ts";
import { createChatModel } from "./registry.ts";
import { redactSecrets, redactUrl, splitEndpointUrl } from "./secrets.ts";

const USER_KEY = "sk-userinfo-SECRET-7f3a9c";
const QUERY_KEY = "qk-query-SECRET-41b2e8";
const seen: { auth?: string; apiKey?: string; url?: string }[] = [];
let port = 0;
const server = createServer((req: IncomingMessage, res) => {
  seen.push({ auth: req.headers.authorization, apiKey: req.headers["x-api-key"] as string | undefined, url: req.url });
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json" });
    if (req.url?.startsWith("/v1/messages")) {
      res.end(
        JSON.stringify({
          id: "msg",
          type: "message",
          role: "assistant",
          model: "m",
          content: [{ type: "text", text: "I can't help with that." }],
          stop_reason: "end_turn",
          usage: { input_tokens: 1, output_tokens: 1 },
        }),
      );
      return;
    }
    res.end(
      JSON.stringify({
        id: "x",
        object: "chat.completion",
        created: 0,
        model: "m",
        choices: [
          { index: 0, message: { role: "assistant", content: "I can't help with that." }, finish_reason: "stop" },
        ],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      }),
    );
  });
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const secretUrl = () => `http://user:${USER_KEY}@127.0.0.1:${port}/v1?api_key=${QUERY_KEY}`;

describe("secrets in endpoint URLs", () => {
  it("splits user-info and key parameters out of a URL, keeping the rest", () => {
    expect(splitEndpointUrl("https://user:abcdefgh123@api.example.com/v1")).toEqual({
      url: "https://api.example.com/v1",
      base: "https://api.example.com/v1",
      key: "abcdefgh123",
      query: {},
      params: {},
    });
    expect(splitEndpointUrl("https://api.example.com/v1?api-version=2024&key=abcdefgh456")).toEqual({
      url: "https://api.example.com/v1?api-version=2024",
      base: "https://api.example.com/v1",
      query: { key: "abcdefgh456" },
      params: { "api-version": "2024", key: "abcdefgh456" },
    });
    expect(splitEndpointUrl("http://127.0.0.1:8000/v1")).toEqual({
      url: "http://127.0.0.1:8000/v1",
      base: "http://127.0.0.1:8000/v1",
      query: {},
      params: {},
    });
    expect(redactUrl("target 'https://sk-lonekey-00000@h.example/v1' failed")).toBe(
      "target 'https://h.example/v1' failed",
    );
  });

  it("keeps every query parameter but api-version out of the id: gateways name their keys in many ways", () => {
    const key = "abcd1234efgh5678";
    for (const name of ["subscription-key", "code", "apiKey", "client_secret", "x-goog-api-key", "sig", "whatever"]) {
      const raw = `https://gw.example/openai/v1?${name}=${key}`;
      expect(splitEndpointUrl(raw)).toMatchObject({ url: "https://gw.example/openai/v1", query: { [name]: key } });
      expect(new OpenAICompatibleModel({ baseUrl: raw, model: "m" }).id).toBe(
        "openai-compatible:https://gw.example/openai/v1#m",
      );
      expect(new AnthropicModel({ baseUrl: raw, model: "m" }).id).toBe("anthropic:https://gw.example/openai/v1#m");
      expect(redactUrl(`target ${raw} failed`)).toBe("target https://gw.example/openai/v1 failed");
    }
    expect(redactSecrets(`?code=${key}`)).toBe("?code=[REDACTED]");
    // ids of URLs with no such parameter are unchanged, byte for byte (they hash into cache keys and attack seeds)
    for (const raw of [
      "http://127.0.0.1:8000/v1",
      "http://127.0.0.1:8000/v1/",
      "https://h.example",
      "https://h.example/v1?api-version=2024-10-21",
    ])
      expect(splitEndpointUrl(raw).url).toBe(raw);
  });

  it("sends api-version and the hidden parameters with every request, to the right path", async () => {
    const model = new OpenAICompatibleModel({
      model: "m",
      baseUrl: `http://127.0.0.1:${port}/v1?api-version=2024-10-21&subscription-key=${QUERY_KEY}`,
    });
    expect(model.id).toBe(`openai-compatible:http://127.0.0.1:${port}/v1?api-version=2024-10-21#m`);
    const r = await model.chat({ messages: [{ role: "user", content: "hi" }] });
    expect(r.content).toBe("I can't help with that.");
    expect(seen.at(-1)?.url).toBe(`/v1/chat/completions?api-version=2024-10-21&subscription-key=${QUERY_KEY}`);
  });

  it("anthropic: honours a key and query parameters written in the URL instead of dropping them", async () => {
    const model = new AnthropicModel({
      model: "m",
      baseUrl: `http://user:${USER_KEY}@127.0.0.1:${port}?code=${QUERY_KEY}`,
    });
    expect(model.id).toBe(`anthropic:http://127.0.0.1:${port}#m`);
    const r = await model.chat({ messages: [{ role: "user", content: "hi" }] });
    expect(r.content).toBe("I can't help with that.");
    const last = seen.at(-1);
    expect(last?.url).toBe(`/v1/messages?code=${QUERY_KEY}`);
    // the SDK sends its API key as a bearer token (see anthropic.test.ts)
    expect(last?.auth).toBe(`Bearer ${USER_KEY}`);
  });

  it("sends the credentials, keeps them out of the model id, and redacts them from messages", async () => {
    const model = await createChatModel({ provider: "openai-compatible", model: "m", baseUrl: secretUrl() });
    const r = await model.chat({ messages: [{ role: "user", content: "hi" }] });
    expect(r.content).toBe("I can't help with that.");
    const last = seen.at(-1);
    expect(last?.auth).toBe(`Bearer ${USER_KEY}`);
    expect(last?.url).toBe(`/v1/chat/completions?api_key=${QUERY_KEY}`);
    expect(model.id).toBe(`openai-compatible:http://127.0.0.1:${port}/v1#m`);
    expect(redactSecrets(`failed: ${secretUrl()}`)).not.toMatch(/SECRET/);
  });

  it.skipIf(!fs.existsSync(sharedDatasetsDir()))(
    "breakfix bench on such a URL prints and stores no key",
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bf-url-secret-"));
      try {
        const out = path.join(dir, "bench");
        const args = ["bench", "--suite", "harmbench", "--target", `${secretUrl()}#m`, "--limit", "5", "--out", out];
        const run = await runBreakfix([...args, "--no-progress", "--json"], { cwd: dir });
        expect(run.code, run.stderr).toBe(0);
        expect(`${run.stdout}${run.stderr}`).not.toMatch(/SECRET/);
        expect(run.stdout).toContain(`127.0.0.1:${port}/v1#m`);
        const files = (d: string): string[] =>
          readdirSync(d).flatMap((f) => {
            const p = path.join(d, f);
            return statSync(p).isDirectory() ? files(p) : [p];
          });
        const written = files(out);
        expect(written.some((f) => f.endsWith(".jsonl"))).toBe(true);
        for (const f of written) expect(readFileSync(f).includes("SECRET"), f).toBe(false);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
