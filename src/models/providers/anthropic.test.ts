import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { isInvisible } from "../../domain/escape.ts";
import { MAX_ENDPOINT_TEXT, ModelError } from "../errors.ts";
import { describeChatModelConformance } from "../testing/conformance.ts";
import { MockAnthropicServer } from "../testing/mock-anthropic.ts";
import { mockReply } from "../testing/mock-server.ts";
import { AnthropicModel } from "./anthropic.ts";

describeChatModelConformance("anthropic (local Messages API)", async () => {
  const server = new MockAnthropicServer();
  const baseUrl = await server.start();
  return {
    model: new AnthropicModel({ baseUrl, model: "claude-test", apiKey: "sk-ant-test-000000" }),
    teardown: () => server.stop(),
  };
});

describe("AnthropicModel", () => {
  it("sends system separately, the key, max_tokens, stop sequences and structured output", async () => {
    const server = new MockAnthropicServer();
    const baseUrl = await server.start();
    try {
      const m = new AnthropicModel({
        baseUrl,
        model: "claude-test",
        apiKey: "sk-ant-test-000000",
        defaultMaxTokens: 64,
      });
      expect(m.id).toBe(`anthropic:${baseUrl}#claude-test`);
      const r = await m.chat({
        messages: [
          { role: "system", content: "be safe" },
          { role: "user", content: "judge this" },
        ],
        stop: ["END"],
        jsonSchema: { name: "verdict", schema: { type: "object", properties: { safe: { type: "boolean" } } } },
      });
      expect(r.content).toBe(mockReply("judge this"));
      const body = server.bodies[0];
      expect(body.system).toBe("be safe");
      expect(body.messages).toEqual([{ role: "user", content: "judge this" }]);
      expect(body.max_tokens).toBe(64);
      expect(body.stop_sequences).toEqual(["END"]);
      expect(body.output_config).toEqual({
        format: { type: "json_schema", schema: { type: "object", properties: { safe: { type: "boolean" } } } },
      });
      // SDK 1.x sends the API key as a bearer token
      expect(server.headers[0].authorization).toBe("Bearer sk-ant-test-000000");
    } finally {
      await server.stop();
    }
  });

  it("sends a conversation holding an empty turn (a target that once answered nothing): the empty turn is left out", async () => {
    const server = new MockAnthropicServer();
    const baseUrl = await server.start();
    try {
      const m = new AnthropicModel({ baseUrl, model: "claude-test", apiKey: "sk-ant-test-000000" });
      const r = await m.chat({
        messages: [
          { role: "user", content: "first question" },
          { role: "assistant", content: "" },
          { role: "user", content: "second question" },
          { role: "assistant", content: "  \n" },
          { role: "user", content: "third question" },
        ],
      });
      expect(r.content).toBe(mockReply("third question"));
      expect(server.bodies[0].messages).toEqual([
        { role: "user", content: "first question" },
        { role: "user", content: "second question" },
        { role: "user", content: "third question" },
      ]);
      // a final assistant message is a prefill: kept, empty or not
      await m.chat({
        messages: [
          { role: "user", content: "q" },
          { role: "assistant", content: "" },
        ],
      });
      expect(server.bodies[1].messages.at(-1)).toEqual({ role: "assistant", content: "" });
    } finally {
      await server.stop();
    }
  });

  it("classifies 429 and 529 as retryable rate limits with Retry-After", async () => {
    const server = new MockAnthropicServer((n) => (n === 0 ? "429" : "529"));
    const baseUrl = await server.start();
    try {
      const m = new AnthropicModel({ baseUrl, model: "claude-test", apiKey: "k-0000000000" });
      for (let i = 0; i < 2; i++) {
        const e = (await m.chat({ messages: [{ role: "user", content: "x" }] }).catch((err) => err)) as ModelError;
        expect(e).toBeInstanceOf(ModelError);
        expect(e.kind).toBe("rate_limit");
        expect(e.retryAfterMs).toBe(2000);
      }
    } finally {
      await server.stop();
    }
  });

  it("quotes an endpoint's error body escaped, on one line and cut short", async () => {
    const message = `bad input: \u001b]0;pwned\u0007\u001b[2J\u202eeulav\n${"z".repeat(20_000)}`;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ type: "error", error: { type: "invalid_request_error", message } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const m = new AnthropicModel({ baseUrl, model: "m", apiKey: "k-0000000000" });
      const err = (await m.chat({ messages: [{ role: "user", content: "x" }] }).catch((e) => e)) as ModelError;
      expect(err).toBeInstanceOf(ModelError);
      expect(err.kind).toBe("client");
      // the SDK's message quotes the body as JSON (controls come out as \u001b text); the bidi override comes raw
      expect(err.message).toContain("bad input: \\u001b]0;pwned\\u0007\\u001b[2J\\u{202e}eulav");
      expect(err.message).not.toContain("\n");
      expect([...err.message].filter((ch) => isInvisible(ch.codePointAt(0) ?? 0))).toEqual([]);
      expect(err.message.length).toBeLessThan(MAX_ENDPOINT_TEXT + 60);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("AnthropicModel stop reasons", () => {
  it("reports an answer cut by the context window as length, like max_tokens, and a classifier refusal as content_filter", async () => {
    const reasons = ["model_context_window_exceeded", "max_tokens", "end_turn", "stop_sequence", "refusal"];
    let n = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            id: `msg_${n}`,
            type: "message",
            role: "assistant",
            model: "claude-test",
            content: [{ type: "text", text: "partial" }],
            stop_reason: reasons[n++],
            stop_sequence: null,
            usage: { input_tokens: 1, output_tokens: 1 },
          }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const m = new AnthropicModel({ baseUrl, model: "claude-test", apiKey: "sk-ant-test-000000" });
      const got: string[] = [];
      for (const _ of reasons) got.push((await m.chat({ messages: [{ role: "user", content: "hi" }] })).finishReason);
      // "refusal": the API's safety classifiers stopped the answer, which is the deployment's filter, as on Azure
      expect(got).toEqual(["length", "length", "stop", "stop", "content_filter"]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
